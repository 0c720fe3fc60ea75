"""Verifying the audit trail: from the store, or from an export with the public key alone."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.engine import Connection

from jaju.audit.chain import GENESIS, Checkpoint, leaf_hash, link
from jaju.audit.keys import key_id_of, load_public, verify_signature
from jaju.store import Database
from jaju.store.tables import AuditCheckpoint, AuditEvent

EXPORT_FORMAT = "jaju-audit-export/1"


@dataclass
class Report:
    """The outcome of a verification; `problem` names the first bad event or checkpoint."""

    ok: bool = True
    events: int = 0
    redacted: int = 0
    checkpoints: int = 0
    witnessed: int = 0
    last_seq: int = 0
    problem: str | None = None
    bad_seq: int | None = None
    notes: list[str] = field(default_factory=list)

    def fail(self, seq: int | None, problem: str) -> Report:
        self.ok, self.bad_seq, self.problem = False, seq, problem
        return self


def _check_signature(cp: Checkpoint, keys: dict[str, Ed25519PublicKey]) -> str | None:
    public = keys.get(cp.key_id)
    if public is None:
        return f"checkpoint at event {cp.seq} is signed by key {cp.key_id}, which is not among the trusted keys"
    if not verify_signature(public, cp.signature, cp.message()):
        return f"checkpoint at event {cp.seq} has an invalid signature (checkpoint edited or forged)"
    return None


@contextmanager
def read_only_snapshot(db: Database) -> Iterator[Connection]:
    """One consistent, read-only view of the store.

    Verifying must never write (a verifier that signs what it reads would seal a forgery), and a live
    writer committing meanwhile must not make the events and checkpoints read here disagree.
    """
    with db.engine.connect() as conn:
        if db.dialect == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
            with conn.begin() as txn:
                yield conn
                txn.rollback()
            return
        conn.exec_driver_sql("PRAGMA query_only=ON")
        try:
            conn.exec_driver_sql("BEGIN")  # a deferred read transaction: one snapshot for every query
            yield conn
        finally:
            conn.rollback()
            conn.exec_driver_sql("PRAGMA query_only=OFF")


def verify_store(db: Database, public_keys: Iterable[Ed25519PublicKey], batch: int = 20000,
                 witness: Iterable[Checkpoint] | None = None) -> Report:
    """Walk every event and checkpoint in the store (read-only) and report the first inconsistency.

    With `witness` (checkpoints copied elsewhere as they were made), the store's chain must also pass
    through every witnessed checkpoint: that catches a chain rewritten and re-signed with the real key.
    """
    keys = {key_id_of(k): k for k in public_keys}
    report = Report()
    witnessed: dict[int, Checkpoint] = {}
    for cp in witness or ():
        problem = _check_signature(cp, keys)
        if problem:
            return report.fail(cp.seq, f"the witness's {problem}")
        if witnessed.get(cp.seq, cp).chain_hash != cp.chain_hash:
            return report.fail(cp.seq, f"the witness holds two different checkpoints for event {cp.seq}")
        witnessed[cp.seq] = cp
    with read_only_snapshot(db) as conn:
        cps = [Checkpoint(r.seq, r.chain_hash, r.ts.isoformat(timespec="microseconds"), r.key_id, bytes(r.signature))
               for r in conn.execute(select(AuditCheckpoint).order_by(AuditCheckpoint.seq))]
        for cp in cps:
            problem = _check_signature(cp, keys)
            if problem:
                return report.fail(cp.seq, problem)
        by_seq = {cp.seq: cp for cp in cps}
        expected, chain = 1, GENESIS
        redacted: dict[str | None, int] = {}  # tenant -> highest redacted seq
        claims: dict[str | None, int] = {}  # tenant -> highest seq an audit.redacted event covers
        rows = conn.execution_options(yield_per=batch).execute(
            select(AuditEvent.seq, AuditEvent.body, AuditEvent.leaf_hash, AuditEvent.chain_hash,
                   AuditEvent.tenant_id, AuditEvent.action).order_by(AuditEvent.seq))
        for seq, body, stored_leaf, stored_chain, tenant, action in rows:
            if seq != expected:
                what = "missing (deleted)" if seq > expected else "duplicated or out of order"
                return report.fail(expected, f"event {expected} is {what}: found event {seq} where {expected} "
                                             "should be")
            if body == "":
                # Redacted by log retention: the leaf hash stands in for the content.
                leaf = stored_leaf
                redacted[tenant] = seq
                report.redacted += 1
            else:
                data = body.encode("utf-8")
                leaf = leaf_hash(data)
                if leaf != stored_leaf:
                    return report.fail(seq, f"event {seq} was edited: its content no longer matches its hash")
                if _body_seq(data) != seq:
                    return report.fail(seq, f"event {seq} carries sequence {_body_seq(data)} in its body "
                                            "(moved or reordered)")
                if action == "audit.redacted":
                    claims[tenant] = max(claims.get(tenant, 0), _through(data))
            chain = link(chain, leaf)
            if chain != stored_chain:
                return report.fail(seq, f"event {seq} does not link to the event before it "
                                        "(inserted, deleted or reordered before it)")
            cp = by_seq.get(seq)
            if cp is not None:
                if cp.chain_hash != chain:
                    return report.fail(seq, f"the signed checkpoint at event {seq} does not match the chain: "
                                            f"events up to {seq} were rewritten")
                report.checkpoints += 1
            seen = witnessed.get(seq)
            if seen is not None:
                if seen.chain_hash != chain:
                    return report.fail(seq, f"the store's chain at event {seq} differs from the witness's checkpoint: "
                                            f"events up to {seq} were rewritten and re-signed")
                report.witnessed += 1
            report.events += 1
            expected = seq + 1
    report.last_seq = expected - 1
    for tenant, seq in redacted.items():
        if seq > claims.get(tenant, 0):
            return report.fail(seq, f"event {seq} lost its content without a retention record "
                                    "(no audit.redacted event covers it)")
    beyond = [cp.seq for cp in cps if cp.seq > report.last_seq]
    if beyond:
        return report.fail(report.last_seq + 1, f"the log ends at event {report.last_seq} but a signed "
                                                f"checkpoint covers event {beyond[-1]}: the tail was truncated")
    signed = cps[-1].seq if cps else 0
    if report.last_seq > signed:
        return report.fail(signed + 1, f"events {signed + 1}..{report.last_seq} follow the last signed checkpoint "
                                       f"(event {signed}): no signature covers them, so they may be forged or "
                                       "rewritten. jaju commits every batch with its checkpoint; if an older jaju "
                                       "left them, review them and run `jaju audit checkpoint --accept-unsigned-tail`")
    if witness is not None:
        return _check_witness_ends(report, witnessed)
    return report


def _check_witness_ends(report: Report, witnessed: dict[int, Checkpoint]) -> Report:
    last_witnessed = max(witnessed, default=0)
    if last_witnessed > report.last_seq:
        return report.fail(report.last_seq + 1, f"the log ends at event {report.last_seq} but the witness holds a "
                                                f"checkpoint at event {last_witnessed}: the tail was deleted")
    if report.last_seq > last_witnessed:
        return report.fail(last_witnessed + 1, f"events {last_witnessed + 1}..{report.last_seq} are covered by no "
                                               "witnessed checkpoint (written without the witness, or a commit "
                                               "crashed before reaching it; the next batch covers them)")
    return report


# In canonical JSON a quote inside a string value is escaped, so an unescaped "seq": is the key itself.
_SEQ = re.compile(rb'(?<!\\)"seq":(-?\d+)[,}]')


def _through(body: bytes) -> int:
    m = re.search(rb'"through_seq":(\d+)', body)
    return int(m.group(1)) if m else 0


def _body_seq(body: bytes) -> int | None:
    m = _SEQ.search(body)
    return int(m.group(1)) if m else None


def read_export(path: Path) -> Iterator[dict]:
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as e:
                    raise ValueError(f"{path}:{n} is not JSON ({e.msg})") from None


def verify_export(path: Path, public_pem: bytes) -> Report:
    """Check an export file against the deployment's public key alone."""
    public = load_public(public_pem)
    keys = {key_id_of(public): public}
    report = Report()
    records = read_export(path)
    header = next(records, None)
    if not header or header.get("type") != "header" or header.get("format") != EXPORT_FORMAT:
        return report.fail(None, f"{path} is not a jaju audit export ({EXPORT_FORMAT})")
    tenant = header.get("tenant")
    chain = header.get("start_chain", GENESIS)
    expected = int(header.get("from_seq", 1))
    start_cp = header.get("start_checkpoint")
    if expected > 1:
        if not start_cp:
            return report.fail(expected, "the export starts mid-chain without a signed starting checkpoint")
        cp = _cp(start_cp)
        problem = _check_signature(cp, keys)
        if problem or cp.seq != expected - 1 or cp.chain_hash != chain:
            return report.fail(cp.seq, problem or "the starting checkpoint does not match the export's start")
    last_signed = expected - 1
    for rec in records:
        kind = rec.get("type")
        if kind in ("event", "leaf"):
            seq = rec.get("seq")
            if seq != expected:
                return report.fail(expected, f"event {expected} is missing from the export (found {seq})")
            if kind == "event":
                data = rec["body"].encode("utf-8")
                body = json.loads(data)
                if body.get("tenant") != tenant or body.get("seq") != seq:
                    return report.fail(seq, f"event {seq} does not belong to tenant {tenant} at this position")
                leaf = leaf_hash(data)
                report.events += 1
            else:
                leaf = rec["leaf"]
            chain = link(chain, leaf)
            expected += 1
        elif kind == "checkpoint":
            cp = _cp(rec)
            problem = _check_signature(cp, keys)
            if problem:
                return report.fail(cp.seq, problem)
            if cp.seq != expected - 1 or cp.chain_hash != chain:
                return report.fail(cp.seq, f"the chain up to event {cp.seq} does not match its signed checkpoint "
                                           "(an event was edited, removed, added or reordered)")
            report.checkpoints += 1
            last_signed = cp.seq
        else:
            return report.fail(None, f"unknown record type {kind!r} in the export")
    report.last_seq = expected - 1
    if last_signed != report.last_seq:
        return report.fail(last_signed + 1, f"events after {last_signed} are not covered by a signed checkpoint")
    return report


def _cp(rec: dict) -> Checkpoint:
    return Checkpoint(int(rec["seq"]), rec["chain"], rec["ts"], rec["key_id"], base64.b64decode(rec["sig"]))
