"""Verifying the audit trail: from the store, or from an export with the public key alone."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select

from jaju.audit.chain import GENESIS, checkpoint_message, leaf_hash, link
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
    last_seq: int = 0
    problem: str | None = None
    bad_seq: int | None = None
    notes: list[str] = field(default_factory=list)

    def fail(self, seq: int | None, problem: str) -> Report:
        self.ok, self.bad_seq, self.problem = False, seq, problem
        return self


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    chain_hash: str
    ts: str
    key_id: str
    signature: bytes


def _check_signature(cp: Checkpoint, keys: dict[str, Ed25519PublicKey]) -> str | None:
    public = keys.get(cp.key_id)
    if public is None:
        return f"checkpoint at event {cp.seq} is signed by key {cp.key_id}, which is not among the trusted keys"
    if not verify_signature(public, cp.signature, checkpoint_message(cp.seq, cp.chain_hash, cp.ts, cp.key_id)):
        return f"checkpoint at event {cp.seq} has an invalid signature (checkpoint edited or forged)"
    return None


def verify_store(db: Database, public_keys: Iterable[Ed25519PublicKey], batch: int = 20000) -> Report:
    """Walk every event and checkpoint in the store and report the first inconsistency."""
    keys = {key_id_of(k): k for k in public_keys}
    report = Report()
    with db.engine.connect() as conn:
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
        if cps and report.last_seq > cps[-1].seq:
            report.notes.append(f"events {cps[-1].seq + 1}..{report.last_seq} come after the last signed checkpoint")
        elif not cps and report.last_seq:
            report.notes.append("no signed checkpoint yet; run `jaju audit checkpoint`")
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
