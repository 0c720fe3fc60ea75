"""One group commit: link a batch of events to the chain and sign its new head, in one transaction.

The events and the checkpoint over the last of them commit together, so the store never holds an
event that no signature covers; a tail without one was written by someone other than jaju. Before
extending the chain, the writer checks that its current head is exactly the one the newest checkpoint
signed: appending to a rewritten or unsigned tail would seal it with a fresh signature.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import insert, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from jaju.audit.chain import GENESIS, Checkpoint, leaf_hash, link
from jaju.audit.errors import AuditTailUnsigned
from jaju.audit.events import Event, canonical
from jaju.audit.keys import DeploymentKey, verify_signature
from jaju.store import Database
from jaju.store.base import utcnow
from jaju.store.tables import AuditCheckpoint, AuditEvent

APPEND_LOCK = 0x61756474  # "audt": one chain writer at a time across processes

# Built once: every group commit runs these, and building a statement costs more than SQLite running it.
_HEAD = select(AuditEvent.seq, AuditEvent.chain_hash).order_by(AuditEvent.seq.desc()).limit(1)
_CHECKPOINT = (select(AuditCheckpoint.seq, AuditCheckpoint.chain_hash, AuditCheckpoint.ts, AuditCheckpoint.key_id,
                      AuditCheckpoint.signature).order_by(AuditCheckpoint.seq.desc()).limit(1))
_INSERT_EVENTS = insert(AuditEvent.__table__)
_INSERT_CHECKPOINT = insert(AuditCheckpoint.__table__)


@dataclass
class Committed:
    """Per event its sequence number, or the error that kept it out; and the checkpoint that signs them."""

    results: list[int | Exception]
    checkpoint: Checkpoint | None


@dataclass(frozen=True)
class Head:
    """The chain's newest event and newest checkpoint, as read under the write lock."""

    seq: int
    chain_hash: str
    checkpoint: Checkpoint | None


class ChainWriter:
    """Appends batches to the one chain in the store; safe to share by threads, one batch at a time."""

    def __init__(self, db: Database, key: DeploymentKey, lock_timeout_s: float = 10.0):
        self.db = db
        self.key = key
        self._lock_timeout_ms = max(1, int(lock_timeout_s * 1000))
        self._trusted: Checkpoint | None = None  # the newest checkpoint this process signed or verified

    def commit(self, events: Sequence[Event], *, accept_unsigned_tail: bool = False) -> Committed:
        """Append `events` and a checkpoint over the last one; returns once the transaction committed."""
        with self.db.write_connection() as s:  # Core, no ORM session: this runs once per group commit
            head = self.lock_and_read_head(s)
            problem = self.tail_problem(head)
            if problem and not accept_unsigned_tail:
                raise AuditTailUnsigned(problem)
            seq, chain = head.seq, head.chain_hash
            if problem and head.checkpoint and head.checkpoint.seq > seq:
                raise AuditTailUnsigned(f"{problem} A deleted tail cannot be accepted (its sequence numbers are "
                                        "signed); restore the audit tables from a backup.")
            rows: list[dict] = []
            results: list[int | Exception] = []
            for event in events:
                try:
                    record = event.to_record()
                    record["seq"] = seq + 1
                    body = canonical(record)
                except (ValueError, TypeError) as e:  # a bad event fails alone, not its whole batch
                    results.append(e)
                    continue
                seq += 1
                leaf = leaf_hash(body)
                chain = link(chain, leaf)
                rows.append({"seq": seq, "ts": event.ts, "tenant_id": event.tenant_id, "action": event.action,
                             "body": body.decode("utf-8"), "leaf_hash": leaf, "chain_hash": chain})
                results.append(seq)
            if not rows:
                return Committed(results, None)
            s.execute(_INSERT_EVENTS, rows)
            cp = self._sign(s, seq, chain)
        self._trusted = cp
        return Committed(results, cp)

    def lock_and_read_head(self, s: Connection | Session) -> Head:
        """Take the chain's write lock (bounded wait) and read its head inside the same transaction."""
        if self.db.dialect == "postgresql":
            # A writer stuck holding the lock must turn into an error here, not a request that hangs.
            s.execute(text("SELECT set_config('lock_timeout', :t, true), pg_advisory_xact_lock(:k)"),
                      {"t": f"{self._lock_timeout_ms}ms", "k": APPEND_LOCK})
        row = s.execute(_HEAD).first()
        cp = s.execute(_CHECKPOINT).first()
        checkpoint = None if cp is None else Checkpoint(cp.seq, cp.chain_hash, cp.ts.isoformat(timespec="microseconds"),
                                                        cp.key_id, bytes(cp.signature))
        seq, chain = (row[0], row[1]) if row else (0, GENESIS)
        return Head(seq, chain, checkpoint)

    def tail_problem(self, head: Head) -> str | None:
        """Why the head is not the one the newest checkpoint signed, or None when it is."""
        cp = head.checkpoint
        if cp is None:
            if head.seq == 0:
                return None
            return (f"events 1..{head.seq} are covered by no signed checkpoint (written by an older jaju that "
                    "crashed, or forged).")
        if cp.seq > head.seq:
            return (f"the chain ends at event {head.seq} but a signed checkpoint covers event {cp.seq}: "
                    "the tail was deleted.")
        if cp.seq < head.seq:
            return (f"events {cp.seq + 1}..{head.seq} follow the last signed checkpoint (event {cp.seq}): "
                    "they were written outside jaju's group commit (by an older jaju that crashed, or forged).")
        if cp.chain_hash != head.chain_hash:
            return f"the chain head at event {cp.seq} differs from its signed checkpoint: the chain was rewritten."
        if cp == self._trusted:
            return None
        if cp.key_id != self.key.key_id:
            return (f"the checkpoint at event {cp.seq} is signed by key {cp.key_id}, not by this deployment's key "
                    f"{self.key.key_id}: every process on one store must share the deployment key.")
        if not verify_signature(self.key.public, cp.signature, cp.message()):
            return f"the checkpoint at event {cp.seq} has an invalid signature (edited or forged)."
        self._trusted = cp
        return None

    def _sign(self, s: Connection, seq: int, chain: str) -> Checkpoint:
        ts = utcnow()
        ts_s = ts.isoformat(timespec="microseconds")
        cp = Checkpoint(seq, chain, ts_s, self.key.key_id, b"")
        cp = Checkpoint(seq, chain, ts_s, self.key.key_id, self.key.sign(cp.message()))
        s.execute(_INSERT_CHECKPOINT, [{"seq": seq, "ts": ts, "chain_hash": chain,
                                        "key_id": cp.key_id, "signature": cp.signature}])
        return cp
