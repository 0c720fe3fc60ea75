"""What someone with write access to the database can do to the chain (and, with the key, to its signatures)."""

from __future__ import annotations

import json

from sqlalchemy import delete, insert, select

from jaju.audit.chain import Checkpoint, leaf_hash, link
from jaju.audit.events import canonical
from jaju.audit.keys import DeploymentKey
from jaju.store import Database
from jaju.store.base import utcnow
from jaju.store.tables import AuditCheckpoint, AuditEvent


def rewrite_and_rehash(db: Database, seq: int, **changes) -> None:
    """Edit event `seq`'s body and recompute every leaf and chain hash from there on, as a forger would."""
    with db.session() as s:
        rows = s.scalars(select(AuditEvent).where(AuditEvent.seq >= seq - 1).order_by(AuditEvent.seq)).all()
        chain = rows[0].chain_hash if rows[0].seq == seq - 1 else "0" * 64
        for row in rows:
            if row.seq == seq:
                body = json.loads(row.body)
                body.update(changes)
                row.body = canonical(body).decode()
            if row.seq >= seq:
                row.leaf_hash = leaf_hash(row.body.encode())
                chain = link(chain, row.leaf_hash)
                row.chain_hash = chain


def resign_from(db: Database, key: DeploymentKey, seq: int) -> None:
    """Replace the checkpoints from `seq` on with fresh signatures over the (rewritten) chain: needs the key."""
    with db.session() as s:
        s.execute(delete(AuditCheckpoint).where(AuditCheckpoint.seq >= seq))
        for ev in s.scalars(select(AuditEvent).where(AuditEvent.seq >= seq).order_by(AuditEvent.seq)).all():
            ts = utcnow()
            cp = Checkpoint(ev.seq, ev.chain_hash, ts.isoformat(timespec="microseconds"), key.key_id, b"")
            s.execute(insert(AuditCheckpoint), [{"seq": ev.seq, "ts": ts, "chain_hash": ev.chain_hash,
                                                 "key_id": key.key_id, "signature": key.sign(cp.message())}])


def delete_tail(db: Database, from_seq: int, *, with_checkpoints: bool) -> None:
    with db.session() as s:
        s.execute(delete(AuditEvent).where(AuditEvent.seq >= from_seq))
        if with_checkpoints:
            s.execute(delete(AuditCheckpoint).where(AuditCheckpoint.seq >= from_seq))


def append_unsigned(db: Database, action: str = "key.create") -> int:
    """Append a correctly chained event with no checkpoint, as an older jaju (or a forger) could."""
    with db.session() as s:
        last = s.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).first()
        seq = last.seq + 1
        body = canonical({"v": 1, "seq": seq, "action": action, "tenant": "ten_a", "key": None, "status": "ok",
                          "ts": utcnow().isoformat(timespec="microseconds")})
        leaf = leaf_hash(body)
        s.add(AuditEvent(seq=seq, ts=utcnow(), tenant_id="ten_a", action=action, body=body.decode(),
                         leaf_hash=leaf, chain_hash=link(last.chain_hash, leaf)))
    return seq
