"""Reports render from a real run: a migrated store, the real audit log and usage meter."""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from jaju.audit import AuditLog, Event
from jaju.audit.keys import DeploymentKey
from jaju.compliance.reports import ai_act_logs, model_card, notice, ropa
from jaju.settings import AuditSettings
from jaju.store import Database
from jaju.store.tables import AuditEvent
from jaju.tenancy.usage import UsageMeter

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
QWEN = {"id": "qwen2.5-coder-0.5b-instruct", "kind": "chat", "backend": "embedded", "jurisdiction": "KR",
        "sha256": "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32", "size": 491_400_064,
        "license": "Apache-2.0", "origin": "Qwen2.5 Coder 0.5B Instruct, Q4_K_M GGUF"}
REMOTE = {"id": "llama-3-70b", "kind": "chat", "backend": "vllm-frankfurt", "jurisdiction": "EU"}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp: Path = tmp_path_factory.mktemp("reports")
    db = Database(f"sqlite:///{tmp / 'jaju.db'}")
    db.migrate()
    audit = AuditLog(db, DeploymentKey(Ed25519PrivateKey.generate()), AuditSettings(), b"r" * 32)
    usage = UsageMeter(db)
    for i in range(6):
        tenant, model = ("t-seoul", QWEN["id"]) if i % 2 == 0 else ("t-berlin", REMOTE["id"])
        audit.append(Event(action="chat.completions", tenant_id=tenant, key_id="k1", ts=T0 + timedelta(hours=i * 10),
                           fields={"model": model, "input_hmac": audit.hmac(tenant, f"질문 {i}")}))
        usage.record(tenant, "k1", model, 20 + i, 40 + i)
    usage.flush()
    with db.engine.connect() as c:
        records = [json.loads(b) for (b,) in c.execute(select(AuditEvent.body).order_by(AuditEvent.seq))]
    yield {"records": records, "usage": usage.rows()}
    db.dispose()


def test_ropa_renders_with_real_usage_and_flags_transfers(run, policies):
    tenants = [{"id": "t-seoul", "name": "서울시청", "jurisdiction": "KR"},
               {"id": "t-berlin", "name": "Berlin GmbH", "jurisdiction": "EU"}]
    report = ropa(controller={"name": "행정안전부", "contact": "privacy@mois.example"}, tenants=tenants,
                  policies={"t-seoul": policies.resolve("KR"), "t-berlin": policies.resolve("KR")},
                  usage_rows=run["usage"], models=[QWEN, REMOTE], generated_at=T0)
    seoul, berlin = report.data["records"]
    assert seoul["recipients"][0]["requests"] == 3 and seoul["transfers"] == []
    assert berlin["transfers"] == [{"model": "llama-3-70b", "jurisdiction": "EU", "requests": 3,
                                    "prompt_tokens": 21 + 23 + 25, "completion_tokens": 41 + 43 + 45}]
    assert seoul["erasure"]["content_days"] == 30
    assert "# Record of processing activities (GDPR Art. 30(1))" in report.markdown
    assert "| KR_RRN | pseudonymize | redact | redact |" in report.markdown
    assert "Each needs one of: consent, law_or_treaty, contract_necessity, certification, adequacy" in report.markdown
    assert json.loads(report.to_json())["report"] == "ropa"


def test_ai_act_logs_export_the_period_only(run):
    start, end = T0 + timedelta(hours=10), T0 + timedelta(hours=40)
    report = ai_act_logs(run["records"], start, end, deployment={"jurisdiction": "KR"}, generated_at=T0)
    assert report.data["count"] == 3
    assert (report.data["first_seq"], report.data["last_seq"]) == (2, 4)
    assert report.data["by_tenant"] == {"t-berlin": 2, "t-seoul": 1}
    assert "| chat.completions | 3 |" in report.markdown
    assert "질문" not in report.to_json()
    with pytest.raises(ValueError):
        ai_act_logs(run["records"], end, start, deployment={}, generated_at=T0)


@pytest.mark.parametrize("lang,jurisdiction,expected", [
    ("ko", "KR", ["# 인공지능 서비스 이용 안내: 정부 AI", "이 서비스는 생성형 인공지능을 기반으로 운영됩니다.",
                  "대화 내용은 30일 후 삭제됩니다.", "- 열람: 10일 이내 처리 (pipa_kr Art. 35(1)"]),
    ("en", "EU", ["You are interacting with an artificial intelligence system. (Basis: ai_act_eu Art. 50(1)",
                  "machine-readable mark", "- erasure: answered within 30 days (gdpr_eu Art. 17"]),
    ("ar", "SA", ["# إشعار استخدام الذكاء الاصطناعي", "الردود في هذه الخدمة مولَّدة بالذكاء الاصطناعي.",
                  "يُحذف محتوى المحادثات بعد 30 يوماً.", "(guidance)"]),
])
def test_notice_in_each_language(policies, lang, jurisdiction, expected):
    report = notice(policies.resolve(jurisdiction), lang, deployment={"name": "정부 AI", "contact": "ai@gov.example"})
    for text in expected:
        assert text in report.markdown, (text, report.markdown)
    with pytest.raises(ValueError):
        notice(policies.resolve("KR"), "fr", deployment={})


def test_model_card_renders_with_and_without_evaluations():
    bare = model_card(QWEN, generated_at=T0)
    assert "| sha256 | 1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32 |" in bare.markdown
    assert "No evaluation results recorded" in bare.markdown
    card = model_card(QWEN, generated_at=T0, evaluations=[{"benchmark": "kobill-qa (own set)", "accuracy": 0.62}])
    assert "| accuracy | benchmark |\n|---|---|\n| 0.62 | kobill-qa (own set) |" in card.markdown
