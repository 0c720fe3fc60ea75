"""The audit chain: intact trails verify; every kind of tampering is caught and named."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import delete, select, update

from jaju.audit import AuditLog, Event
from jaju.audit.chain import leaf_hash, link
from jaju.audit.events import canonical
from jaju.audit.export import export_tenant
from jaju.audit.keys import DeploymentKey
from jaju.audit.verify import verify_export, verify_store
from jaju.store.tables import AuditCheckpoint, AuditEvent


def fill(audit: AuditLog, n: int = 12) -> None:
    for i in range(n):
        tenant = "ten_a" if i % 2 == 0 else "ten_b"
        # one commit per event, so each event gets its own signed checkpoint
        audit.append_now(Event(action="chat.completions", tenant_id=tenant, key_id="key_1", status=200,
                               fields={"model": "qwen", "prompt_tokens": i,
                                       "input_hmac": audit.hmac(tenant, f"질문 {i}")}))


def check(audit: AuditLog):
    return verify_store(audit.db, [audit.key.public])


def test_intact_chain_verifies_with_checkpoints(audit):
    fill(audit)
    report = check(audit)
    assert report.ok, report.problem
    assert report.events == 12 and report.checkpoints == 12  # every commit signs its batch
    assert audit.checkpoint() == 12  # the head is signed already: nothing is written
    assert check(audit).checkpoints == 12


def test_stored_times_are_the_ones_sqlalchemy_queries_match(audit):
    """The writer stores rows on SQLite's own driver: their timestamps must be in the column type's own text,
    or filters such as retention's `ts < before` would compare two formats (and miss or catch wrongly)."""
    at = datetime(2026, 12, 3, 9, 30, 15, 123456, tzinfo=UTC)
    seq = audit.append_now(Event(action="key.create", tenant_id="ten_a", ts=at))
    with audit.db.sessions() as s:
        assert s.scalar(select(AuditEvent.seq).where(AuditEvent.ts == at)) == seq
        assert s.scalar(select(AuditEvent.ts).where(AuditEvent.seq == seq)) == at
        signed = s.scalar(select(AuditCheckpoint.ts).where(AuditCheckpoint.seq == seq))
    assert signed is not None and signed.tzinfo is not None
    assert check(audit).ok  # the checkpoint's time, read back, is the one its signature covers


def test_edited_event_is_named(audit):
    fill(audit)
    with audit.db.session() as s:
        row = s.get(AuditEvent, 7)
        body = json.loads(row.body)
        body["prompt_tokens"] = 999
        row.body = canonical(body).decode()
    report = check(audit)
    assert not report.ok and report.bad_seq == 7 and "edited" in report.problem


def test_edited_event_with_recomputed_hashes_is_caught_by_checkpoint(audit):
    fill(audit)
    with audit.db.session() as s:
        rows = s.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
        chain = rows[1].chain_hash
        for row in rows[2:]:
            if row.seq == 3:
                body = json.loads(row.body)
                body["status"] = 500
                row.body = canonical(body).decode()
            row.leaf_hash = leaf_hash(row.body.encode())
            chain = link(chain, row.leaf_hash)
            row.chain_hash = chain
    report = check(audit)
    assert not report.ok and report.bad_seq == 3 and "rewritten" in report.problem


def test_deleted_event_is_named(audit):
    fill(audit)
    with audit.db.session() as s:
        s.execute(delete(AuditEvent).where(AuditEvent.seq == 4))
    report = check(audit)
    assert not report.ok and report.bad_seq == 4 and "missing" in report.problem


def test_inserted_event_is_named(audit):
    fill(audit)
    with audit.db.session() as s:
        # make room at 6 by moving 6..12 up one, then insert a forged event at 6
        for seq in range(12, 5, -1):
            s.execute(update(AuditEvent).where(AuditEvent.seq == seq).values(seq=seq + 1))
        forged = canonical({"v": 1, "seq": 6, "action": "key.create", "tenant": "ten_a"})
        s.add(AuditEvent(seq=6, ts=s.get(AuditEvent, 5).ts, tenant_id="ten_a", action="key.create",
                         body=forged.decode(), leaf_hash=leaf_hash(forged), chain_hash="0" * 64))
    report = check(audit)
    assert not report.ok and report.bad_seq == 6


def test_reordered_events_are_named(audit):
    fill(audit)
    with audit.db.session() as s:
        a, b = s.get(AuditEvent, 8), s.get(AuditEvent, 9)
        a.body, b.body = b.body, a.body
        a.leaf_hash, b.leaf_hash = b.leaf_hash, a.leaf_hash
    report = check(audit)
    assert not report.ok and report.bad_seq == 8


def test_truncated_tail_behind_checkpoint(audit):
    fill(audit)
    audit.checkpoint()
    with audit.db.session() as s:
        s.execute(delete(AuditEvent).where(AuditEvent.seq >= 11))
    report = check(audit)
    assert not report.ok and report.bad_seq == 11 and "truncated" in report.problem


def test_forged_checkpoint_signature(audit):
    fill(audit)
    with audit.db.session() as s:
        cp = s.get(AuditCheckpoint, 5)
        cp.signature = bytes(64)
    report = check(audit)
    assert not report.ok and report.bad_seq == 5 and "signature" in report.problem


def test_checkpoint_from_another_key_is_refused(audit, tmp_path):
    fill(audit)
    other = DeploymentKey.load_or_create(tmp_path / "other")
    report = verify_store(audit.db, [other.public])
    assert not report.ok and "not among the trusted keys" in report.problem


def test_no_raw_content_in_events(audit):
    audit.append(Event(action="chat.completions", tenant_id="ten_a",
                       fields={"input_hmac": audit.hmac("ten_a", "홍길동의 주민번호는 900101-1234567")}))
    audit.flush()
    with audit.db.sessions() as s:
        bodies = " ".join(s.scalars(select(AuditEvent.body)))
    assert "홍길동" not in bodies and "900101" not in bodies
    assert audit.hmac("ten_a", "x") != audit.hmac("ten_b", "x")  # per-tenant keys


def test_export_verifies_with_public_key_alone(audit, tmp_path):
    fill(audit)
    out = tmp_path / "a.jsonl"
    summary = export_tenant(audit, "ten_a", out)
    assert summary["events"] == 6
    pem = audit.key.public_pem()
    report = verify_export(out, pem)
    assert report.ok, report.problem
    text = out.read_text(encoding="utf-8")
    assert '"tenant":"ten_b"' not in text  # other tenants appear only as leaf hashes

    lines = text.splitlines()
    for i, line in enumerate(lines):
        rec = json.loads(line)
        if rec["type"] == "event" and rec["seq"] == 3:
            body = json.loads(rec["body"])
            body["status"] = 403
            rec["body"] = canonical(body).decode()
            lines[i] = json.dumps(rec, ensure_ascii=False)
    tampered = tmp_path / "b.jsonl"
    tampered.write_text("\n".join(lines) + "\n", encoding="utf-8")
    bad = verify_export(tampered, pem)
    assert not bad.ok and bad.bad_seq == 3  # the edited event's own checkpoint

    dropped = tmp_path / "c.jsonl"
    dropped.write_text("\n".join(ln for ln in lines if '"seq": 4,' not in ln) + "\n", encoding="utf-8")
    assert not verify_export(dropped, pem).ok

    other = DeploymentKey.load_or_create(tmp_path / "other")
    assert not verify_export(out, other.public_pem()).ok


def test_export_spanning_from_a_later_checkpoint(audit, tmp_path):
    for _ in range(10):
        audit.append(Event(action="x", tenant_id="ten_b"))
    assert audit.checkpoint() == 10
    fill(audit, 4)
    out = tmp_path / "late.jsonl"
    summary = export_tenant(audit, "ten_a", out)
    assert summary["from_seq"] == 11 and summary["events"] == 2
    assert verify_export(out, audit.key.public_pem()).ok


def test_log_retention_redacts_and_the_chain_still_verifies(audit, tmp_path):
    from datetime import timedelta

    from jaju.audit.retention import AuditLogTarget
    from jaju.store.base import utcnow

    fill(audit)
    audit.checkpoint()
    target = AuditLogTarget(audit)
    assert target.purge("ten_a", utcnow() + timedelta(seconds=1)) == 6
    report = check(audit)
    assert report.ok, report.problem
    assert report.redacted == 6
    with audit.db.sessions() as s:
        kept = s.scalars(select(AuditEvent.body).where(AuditEvent.tenant_id == "ten_b")).all()
    assert all(kept)  # other tenants untouched
    out = tmp_path / "after.jsonl"
    export_tenant(audit, "ten_a", out)
    assert verify_export(out, audit.key.public_pem()).ok


def test_content_removed_without_a_retention_record_is_caught(audit):
    fill(audit)
    with audit.db.session() as s:
        s.get(AuditEvent, 3).body = ""
    report = check(audit)
    assert not report.ok and report.bad_seq == 3 and "retention record" in report.problem
