"""The compliance router in-process over ASGI, and the click commands, on a real migrated store."""

import asyncio
import json
from pathlib import Path
from types import SimpleNamespace

import httpx
import numpy as np
import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI

from jaju.api import errors as api_errors
from jaju.api.auth import Principal
from jaju.api.compliance import router
from jaju.audit import AuditLog
from jaju.audit.keys import DeploymentKey
from jaju.cli.compliance import COMMANDS, print_policy
from jaju.cli.context import CliContext
from jaju.compliance.factory import build_compliance_service, build_retention
from jaju.compliance.labelling import make_label
from jaju.compliance.retention import SqlTableTarget
from jaju.errors import ApiError
from jaju.settings import AuditSettings, load_settings
from jaju.store import Database
from jaju.store.base import utcnow
from jaju.store.tables import Tenant, UsageDaily
from jaju.tenancy.tenants import TenantService
from jaju.tenancy.usage import UsageMeter

TEXT = "개인정보 보호법에 따라 주민등록번호는 처리할 수 없습니다."


def utf8_ids(text: str) -> list[int]:
    return list(text.encode("utf-8"))


def tokenizer_for(model: str):
    if model != "toy":
        raise KeyError(model)
    return utf8_ids


class Keys:
    """Stands in for the API-key service: one key per tenant."""

    def authenticate(self, token: str) -> Principal:
        if token != "sk-seoul":
            raise ApiError(401, "Invalid API key.", "authentication_error", "invalid_api_key")
        return Principal("t-seoul", "서울시청", "k1", frozenset({"inference"}), "KR")

    async def authenticate_async(self, token: str) -> Principal:
        return self.authenticate(token)


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    tmp: Path = tmp_path_factory.mktemp("api")
    settings = load_settings(data_dir=tmp, jurisdiction="KR", compliance={"controller": {"name": "행정안전부"}},
                             engine={"default_model": "toy"})
    db = Database(settings.effective_database_url)
    db.migrate()
    key = DeploymentKey(Ed25519PrivateKey.generate())
    audit = AuditLog(db, key, AuditSettings(), b"a" * 32)
    tenants = TenantService(db, audit, {"KR", "EU", "SA"})
    with db.session() as s:
        s.add(Tenant(id="t-seoul", name="서울시청", jurisdiction="KR", status="active", created_at=utcnow(), settings={}))
        s.add(Tenant(id="t-berlin", name="berlin", jurisdiction="KR", status="active", created_at=utcnow(),
                     settings={"packs": ["pipa_kr", "gdpr_eu", "ai_act_eu"]}))
    compliance = build_compliance_service(settings, db, key, audit, tokenizer_for)
    retention = build_retention(compliance, tenants, audit, [SqlTableTarget(
        db, UsageDaily.__table__, kind="content", time_column="day", name="usage_daily")])
    usage = UsageMeter(db)
    usage.record("t-seoul", "k1", "toy", 10, 20)
    usage.flush()
    models = SimpleNamespace(available=list)
    yield SimpleNamespace(settings=settings, db=db, key=key, audit=audit, tenants=tenants, keys=Keys(),
                          compliance=compliance, retention=retention, usage=usage,
                          models=models)
    db.dispose()


class Client:
    """Calls the router in-process over ASGI; each call runs its own event loop."""

    def __init__(self, services):
        self.app = FastAPI()
        api_errors.install(self.app)
        self.app.include_router(router)
        self.app.state.services = services

    def _call(self, method: str, path: str, **kw) -> httpx.Response:
        async def go():
            async with httpx.AsyncClient(transport=httpx.ASGITransport(self.app), base_url="http://jaju",
                                         headers={"Authorization": "Bearer sk-seoul"}) as c:
                return await c.request(method, path, **kw)
        return asyncio.run(go())

    def get(self, path: str, **kw) -> httpx.Response:
        return self._call("GET", path, **kw)

    def post(self, path: str, **kw) -> httpx.Response:
        return self._call("POST", path, **kw)


@pytest.fixture
def client(services):
    return Client(services)


def _manifest(services, content=TEXT):
    c = services.compliance
    policy = c.policy_for("t-seoul", "KR")
    label = make_label(policy, model="toy", weights_sha256=None, jurisdiction="KR", request_id="r1", created=utcnow())
    return c.manifest(content, label)


def test_verify_route_names_the_changed_content(client, services):
    manifest = _manifest(services)
    ok = (client.post("/v1/provenance/verify", json={"content": TEXT, "manifest": manifest})).json()
    assert ok["valid"] is True
    bad = (client.post("/v1/provenance/verify", json={"content": TEXT[:-1] + "!", "manifest": manifest})).json()
    assert bad["valid"] is False and bad["checks"]["content_sha256"] is False
    pem = (client.get("/v1/provenance/public-key", headers={})).json()
    assert pem["key_id"] == services.key.key_id
    other = DeploymentKey(Ed25519PrivateKey.generate()).public_pem().decode()
    r = (client.post("/v1/provenance/verify", json={"content": TEXT, "manifest": manifest,
                                                          "public_key": other})).json()
    assert r["checks"]["key_id"] is False
    r = client.post("/v1/provenance/verify", json={"content": TEXT, "manifest": manifest, "public_key": "x"})
    assert r.status_code == 400 and r.json()["error"]["param"] == "public_key"


def test_detect_route(client, services):
    hook = services.compliance._hook  # the deployment's own hook: same key and parameters
    rng = np.random.default_rng(3)
    ids = [1]
    for _ in range(150):
        logits = rng.normal(0, 2.5, 256).astype(np.float32)
        hook(ids, logits)
        p = np.exp(logits - logits.max())
        ids.append(int(rng.choice(256, p=p / p.sum())))
    marked = (client.post("/v1/watermark/detect", json={"token_ids": ids})).json()
    assert marked["detected"] is True and marked["model"] == "toy"
    human = (client.post("/v1/watermark/detect", json={"text": TEXT * 3})).json()
    assert human["detected"] is False
    r = client.post("/v1/watermark/detect", json={"text": TEXT, "model": "gpt-4o"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "model_not_found"
    r = client.post("/v1/watermark/detect", json={"text": TEXT, "token_ids": [1]})
    assert r.status_code in (400, 422)
    r = client.post("/v1/watermark/detect", json={"text": TEXT}, headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401


def test_policy_route(client):
    body = (client.get("/v1/policy")).json()
    assert body["packs"] == ["pipa_kr", "ai_basic_act_kr"]
    assert {"rule": "retention.content_max_days", "value": "30",
            "sources": [{"pack": "pipa_kr", "article": "Art. 21(1)", "binding": True}]} in body["rules"]


def _cli(services, args):
    group = next(c for c in COMMANDS if c.name == args[0])
    obj = CliContext(data_dir=None, config=None, _settings=services.settings, _services=services)
    return CliRunner().invoke(group, args[1:], obj=obj, catch_exceptions=False)


def test_cli_policy_explain(services):
    r = _cli(services, ["policy", "explain", "--tenant", "berlin"])
    assert r.exit_code == 0, r.output
    assert "Packs: pipa_kr, gdpr_eu, ai_act_eu" in r.output
    assert "retention.logs_min_days" in r.output and "pipa_kr Standards for Securing" in r.output
    r = _cli(services, ["policy", "explain", "--tenant", "nobody"])
    assert r.exit_code == 1 and "No tenant 'nobody'" in r.output


def test_cli_provenance_verify(services, tmp_path):
    content = tmp_path / "answer.txt"
    content.write_text(TEXT, encoding="utf-8")
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"provenance": _manifest(services)}), encoding="utf-8")
    r = _cli(services, ["provenance", "verify", str(content), "-m", str(manifest)])
    assert r.exit_code == 0 and "Valid" in r.output
    content.write_bytes(TEXT.encode("utf-8")[:-1] + b"?")
    r = _cli(services, ["provenance", "verify", str(content), "-m", str(manifest)])
    assert r.exit_code == 1 and "FAIL  content_sha256" in r.output and "content hashes to" in r.output


def test_cli_watermark_detect_flags_short_text(services, tmp_path):
    f = tmp_path / "t.txt"
    f.write_text("안녕", encoding="utf-8")
    r = _cli(services, ["watermark", "detect", str(f)])
    assert r.exit_code == 0 and "no watermark shown" in r.output and "too short" in r.output


def test_cli_reports_and_retention(services):
    r = _cli(services, ["report", "notice", "--lang", "ar"])
    assert r.exit_code == 0 and "# إشعار استخدام الذكاء الاصطناعي: 행정안전부" in r.output
    r = _cli(services, ["report", "ropa", "--json"])
    data = json.loads(r.output)
    assert data["records"][0]["recipients"][0]["model"] == "toy"
    r = _cli(services, ["report", "ai-act-logs", "--from", "2020-01-01", "--to", "2999-12-31"])
    assert r.exit_code == 0 and "# AI Act event logs (Art. 12)" in r.output
    r = _cli(services, ["report", "model-card", "nope"])
    assert r.exit_code == 1 and "No model 'nope'" in r.output
    r = _cli(services, ["retention", "run", "--now", "2999-01-01", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["deleted"] == 1  # the one usage row, far in the past by then


def test_cli_high_impact(services):
    r = _cli(services, ["high-impact", "register", "-t", "서울시청", "-a", "복지 심사",
                        "--contact", "박지훈|복지정책과장|welfare@seoul.example",
                        "--evidence", "risk_management_plan=doc://risk"])
    assert r.exit_code == 0, r.output
    assert "MISSING" in r.output and "4 of 6 duties lack evidence." in r.output
    assert any(line.startswith("ok") and "human_oversight" in line for line in r.output.splitlines())
    r = _cli(services, ["high-impact", "checklist", "-t", "서울시청", "-a", "없는 앱"])
    assert r.exit_code == 1 and "is not registered as high-impact" in r.output


def test_print_policy_is_reusable(services, capsys):
    print_policy(services.compliance.policies.resolve("SA"))
    assert "pdpl_sa Art. 29" in capsys.readouterr().out
