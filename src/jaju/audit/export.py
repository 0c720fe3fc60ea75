"""Exporting one tenant's audit trail so a third party can verify it with the public key alone.

The export carries the tenant's own events in full and, for other tenants' events in the same span,
only their leaf hashes: enough to recompute the chain between signed checkpoints, nothing about them.
"""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select

from jaju.audit.chain import GENESIS
from jaju.audit.keys import b64
from jaju.audit.log import AuditLog
from jaju.audit.verify import EXPORT_FORMAT
from jaju.store.tables import AuditCheckpoint, AuditEvent


def _cp_record(cp: AuditCheckpoint) -> dict:
    return {"type": "checkpoint", "seq": cp.seq, "chain": cp.chain_hash,
            "ts": cp.ts.isoformat(timespec="microseconds"), "key_id": cp.key_id, "sig": b64(bytes(cp.signature))}


def export_tenant(audit: AuditLog, tenant_id: str, out: Path) -> dict:
    """Write the tenant's span of the chain to `out` (JSON lines); returns a summary."""
    audit.checkpoint()  # everything up to now becomes covered by a signature
    db = audit.db
    with db.sessions() as s:
        first, last = s.execute(select(func.min(AuditEvent.seq), func.max(AuditEvent.seq))
                                .where(AuditEvent.tenant_id == tenant_id)).one()
        if first is None:
            first = last = 0
        start = s.scalars(select(AuditCheckpoint).where(AuditCheckpoint.seq < first)
                          .order_by(AuditCheckpoint.seq.desc()).limit(1)).first() if first else None
        end = s.scalars(select(AuditCheckpoint).where(AuditCheckpoint.seq >= last)
                        .order_by(AuditCheckpoint.seq).limit(1)).first() if last else None
        from_seq = start.seq + 1 if start else 1
        to_seq = end.seq if end else 0
        header = {"type": "header", "format": EXPORT_FORMAT, "tenant": tenant_id, "key_id": audit.key.key_id,
                  "public_key_pem": audit.key.public_pem().decode("ascii"), "from_seq": from_seq,
                  "to_seq": to_seq, "start_chain": start.chain_hash if start else GENESIS,
                  "start_checkpoint": _cp_record(start) if start else None}
        count = 0
        tmp = out.with_suffix(out.suffix + ".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(json.dumps(header, ensure_ascii=False) + "\n")
            if to_seq:
                cps = {cp.seq: cp for cp in s.scalars(select(AuditCheckpoint).where(
                    AuditCheckpoint.seq > from_seq - 1, AuditCheckpoint.seq <= to_seq))}
                rows = s.execute(select(AuditEvent.seq, AuditEvent.tenant_id, AuditEvent.body, AuditEvent.leaf_hash)
                                 .where(AuditEvent.seq >= from_seq, AuditEvent.seq <= to_seq)
                                 .order_by(AuditEvent.seq).execution_options(yield_per=10000))
                for seq, tid, body, leaf in rows:
                    if tid == tenant_id and body:
                        rec = {"type": "event", "seq": seq, "body": body}
                        count += 1
                    else:
                        rec = {"type": "leaf", "seq": seq, "leaf": leaf}
                    f.write(json.dumps(rec, ensure_ascii=False) + "\n")
                    if seq in cps:
                        f.write(json.dumps(_cp_record(cps[seq])) + "\n")
        tmp.replace(out)
    return {"tenant": tenant_id, "events": count, "from_seq": from_seq, "to_seq": to_seq, "file": str(out)}
