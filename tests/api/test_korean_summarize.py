"""POST /v1/korean/summarize on the real engine: map-reduce past the model's context, through the chat path.

The deployment here gives the default model a 512-token context, so a real National Assembly bill
(konlpy's kobill corpus) is longer than what one call can read and the map-reduce path is really taken.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from jaju.app import create_app
from jaju.cli.serve import bootstrap
from jaju.engine.base import Delta
from jaju.errors import UpstreamFailed
from jaju.services import build_services
from jaju.store.tables import AuditEvent
from tests.support import close_services, link_models, make_settings, spy_on_chat

pytestmark = [pytest.mark.anyio, pytest.mark.engine]
MODEL = "qwen2.5-coder-0.5b-instruct"
URL = "/v1/korean/summarize"
CONTEXT = 512
MAX_CHARS = 6000
PHONE = "010-2345-6789"
RRN = "900101-1234567"
PLACEHOLDER = re.compile(r"\[[A-Z_]+_\d+\]")
DATA = Path(__file__).resolve().parents[1] / "data" / "kobill"


def bill(name: str = "1809894.txt") -> str:
    """A whole bill as konlpy's kobill corpus has it (tests/data/kobill): 1,097 characters, 761 tokens."""
    return (DATA / name).read_text(encoding="utf-8").strip()


@pytest.fixture(scope="module")
def small(tmp_path_factory, qwen_gguf):
    """Services whose default model reads at most 512 tokens per call, and documents of at most 6,000 characters."""
    data_dir = tmp_path_factory.mktemp("summarize")
    link_models(data_dir, qwen_gguf)
    svc = build_services(make_settings(data_dir, engine={"threads": 2, "parallel": 4, "kv_cache_tokens": 4096,
                                                         "context_size": CONTEXT},
                                       limits={"max_document_chars": MAX_CHARS}))
    svc.admin_secret = bootstrap(svc)
    svc.load_models()
    yield svc
    close_services(svc)


@pytest.fixture
async def client(small):
    app = create_app(services=small, load_models=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://jaju.test") as c:
        yield c


@pytest.fixture
def engine_requests(small, monkeypatch):
    """Every request the real engine is given, as JSON text (the engine still runs)."""
    return spy_on_chat(small.models.loaded()[MODEL], monkeypatch)


def auth(svc) -> dict[str, str]:
    return {"Authorization": f"Bearer {svc.admin_secret}"}


def events(svc, action: str) -> list[dict]:
    svc.audit.flush()
    with svc.db.sessions() as s:
        return [json.loads(b) for b in s.scalars(select(AuditEvent.body).where(AuditEvent.action == action)
                                                 .order_by(AuditEvent.seq))]


async def test_a_bill_longer_than_the_context_is_summarised_by_map_reduce(client, small, engine_requests):
    text = f"민원인 홍길동의 주민등록번호는 {RRN}이고 연락처는 {PHONE}입니다.\n" + bill()
    tenant = small.keys.authenticate(small.admin_secret).tenant_id
    small.usage.flush()
    used_before = small.usage.month_tokens(tenant)
    r = await client.post(URL, headers=auth(small), json={"input": text, "max_tokens": 40, "temperature": 0})
    assert r.status_code == 200, r.text
    body = r.json()
    ext, summary = body["jaju"], body["summary"]
    assert ext["document_tokens"] > CONTEXT and ext["token_count"] == "exact"  # the bill does not fit in one call
    assert ext["chunks"] > 1 and ext["reduce_levels"] >= 1
    assert ext["model_calls"] == len(engine_requests) >= ext["chunks"] + 1
    assert re.search("[가-힣]", summary) and len(summary) < len(text)
    # personal data: pseudonymised in every call (map and reduce), counted once, never left as a placeholder
    sent = "\n".join(engine_requests)
    assert RRN not in sent and "1234567" not in sent and PHONE not in sent and "[KR_RRN_1]" in sent
    assert ext["pii"]["KR_RRN"] == 1 and ext["pii"]["KR_PHONE"] == 1
    assert not PLACEHOLDER.search(summary)
    # labelled like a chat completion: header, and a manifest signed over exactly this summary
    assert "ai-generated" in r.headers["x-jaju-ai-generated"] and ext["ai_generated"] is True
    check = await client.post("/v1/provenance/verify", headers=auth(small),
                              json={"content": summary, "manifest": ext["provenance"]})
    assert check.json()["valid"] is True
    # one durable event for the request, one per model call (same request id), metered per call
    rid = body["id"]
    done = [e for e in events(small, "korean.summarize") if e["request_id"] == rid]
    steps = [e for e in events(small, "korean.summarize.step") if e["request_id"] == rid]
    assert len(done) == 1 and done[0]["status"] == 200 and done[0]["model_calls"] == ext["model_calls"]
    assert len(steps) == ext["model_calls"] and all(e["status"] == 200 for e in steps)
    assert done[0]["backend"] == f"embedded:{MODEL}" and done[0]["jurisdiction"] == "KR"
    assert done[0]["pii"]["KR_RRN"] == 1 and done[0]["pii"]["KR_PHONE"] == 1  # types and counts only
    trail = json.dumps(done + steps, ensure_ascii=False)
    assert RRN not in trail and PHONE not in trail and bill()[:40] not in trail
    usage = body["usage"]
    assert usage["prompt_tokens"] == sum(e["prompt_tokens"] for e in steps) > ext["document_tokens"]
    small.usage.flush()
    assert small.usage.month_tokens(tenant) - used_before == usage["total_tokens"]


async def test_placeholders_the_model_writes_come_back_as_the_original_values(client, small, monkeypatch):
    """Deterministic at the service boundary: the real engine answers, and every placeholder it was given is
    appended to its answer, as a model that quotes them would. Each call restores its own; the reduce call
    pseudonymises the restored values again, and the summary holds the originals."""
    engine = small.models.loaded()[MODEL]
    original = engine.chat
    sent: list[str] = []

    async def quoting(request):
        given = json.dumps(request.messages, ensure_ascii=False)
        sent.append(given)
        stream = original(request)
        try:
            async for d in stream:
                if d.finish_reason is not None and d.index == 0:
                    yield Delta(text=" " + " ".join(dict.fromkeys(PLACEHOLDER.findall(given))))
                yield d
        finally:
            await stream.aclose()

    monkeypatch.setattr(engine, "chat", quoting)
    section = bill()[bill().find("제안이유"):bill().find("- 1 -")].strip()
    text = f"민원 담당자의 연락처는 {PHONE}입니다.\n" + section
    # small chunks, so that a short text still takes the map and reduce path
    r = await client.post(URL, headers=auth(small), json={"input": text, "max_tokens": 24, "temperature": 0,
                                                         "chunk_max_chars": 150})
    assert r.status_code == 200, r.text
    summary = r.json()["summary"]
    assert r.json()["jaju"]["chunks"] > 1
    assert PHONE in summary and not PLACEHOLDER.search(summary)
    assert all(PHONE not in s for s in sent)
    assert "[KR_PHONE_1]" in sent[-1]  # the final reduce call read the restored number, pseudonymised again


async def test_a_failure_midway_fails_the_whole_request(client, small, monkeypatch):
    engine = small.models.loaded()[MODEL]
    original = engine.chat
    calls = []

    async def failing_second(request):
        calls.append(1)
        n = len(calls)
        stream = original(request)
        try:
            async for d in stream:
                yield d
                if n == 2:  # the second call fails after its first delta
                    raise UpstreamFailed("The engine stopped mid-answer.")
        finally:
            await stream.aclose()

    monkeypatch.setattr(engine, "chat", failing_second)
    r = await client.post(URL, headers=auth(small), json={"input": bill(), "max_tokens": 32, "temperature": 0})
    small.sovereignty.router.mark(engine, True)
    assert r.status_code == 502, r.text
    error = r.json()["error"]
    assert "summary" not in r.json() and "no summary is returned" in error["message"]
    assert "The engine stopped mid-answer." in error["message"]
    failed = [e for e in events(small, "korean.summarize") if e["status"] == 502]
    assert failed and failed[-1]["chunks"] > 1 and "output_hmac" not in failed[-1]


@pytest.mark.parametrize("body, status, param", [
    ({"input": ""}, 400, "input"),
    ({"input": ["첫 부분입니다.", "   "]}, 400, "input"),
    ({"input": "본문입니다.", "max_tokens": 0}, 400, "max_tokens"),
    ({"input": "본문입니다.", "chunk_max_chars": 100, "chunk_min_chars": 300}, 400, "chunk_min_chars"),
    ({"input": "본문입니다.", "split": "yes"}, 400, "split"),
    ({"input": "본문입니다.", "max_tokens": 400}, 400, "max_tokens"),  # no room left for text in 512 tokens
    ({"input": bill(), "max_tokens": 120}, 400, "max_tokens"),  # room for one call, not to combine three
    ({"input": "가" * (MAX_CHARS + 1)}, 413, "input"),
    ({"input": "본문입니다.", "model": "없는-모델"}, 404, "model"),
])
async def test_bad_input_is_refused_naming_the_field(client, small, body, status, param):
    r = await client.post(URL, headers=auth(small), json=body)
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert error["param"] == param
    if status == 413:
        assert f"{MAX_CHARS:,}" in error["message"] and "max_document_chars" in error["message"]
    if body["input"] == ["첫 부분입니다.", "   "]:
        assert "input[1]" in error["message"]
    if param == "max_tokens" and body["max_tokens"] > 16:
        assert "use at most" in error["message"] and error["code"] == "max_tokens_too_large"


async def test_split_false_needs_each_text_to_fit(client, small):
    r = await client.post(URL, headers=auth(small), json={"input": ["짧은 글입니다.", bill()], "split": False,
                                                         "max_tokens": 32})
    assert r.status_code == 400 and r.json()["error"]["param"] == "input[1]"
    assert "split true" in r.json()["error"]["message"]


async def test_text_that_is_not_unicode_is_refused(client, small):
    r = await client.post(URL, headers={**auth(small), "Content-Type": "application/json"},
                          content=b'{"input": "\xed\x95\x9c\xff\xfe"}')
    assert r.status_code == 400 and r.json()["error"]["type"] == "invalid_request_error"  # the edge refuses it
    r = await client.post(URL, headers={**auth(small), "Content-Type": "application/json"},
                          content=b'{"input": "\\ud800 abc"}')
    assert r.status_code == 400 and r.json()["error"]["param"] == "input"


async def test_a_key_without_the_inference_scope_is_refused(client, small):
    tenant = small.keys.authenticate(small.admin_secret).tenant_id
    _, secret = small.keys.create(tenant, ["knowledge"])
    r = await client.post(URL, headers={"Authorization": f"Bearer {secret}"}, json={"input": "본문입니다."})
    assert r.status_code == 403


async def test_a_tenant_whose_law_allows_no_backend_here_is_refused_before_any_call(client, small, engine_requests):
    tenant = small.tenants.create("사우디기관", "SA")  # PDPL: no transfer basis to KR recorded
    _, secret = small.keys.create(tenant.id, ["inference"])
    h = {"Authorization": f"Bearer {secret}"}
    r = await client.post(URL, headers=h, json={"input": bill(), "max_tokens": 32})
    assert r.status_code == 503 and r.json()["error"]["code"] == "residency_unavailable"
    assert engine_requests == []  # fail closed: not one token of the document reached a model
    refused = [e for e in events(small, "korean.summarize") if e["tenant"] == tenant.id]
    assert [e["status"] for e in refused] == [503]
    seg = await client.post("/v1/korean/segment", headers=h, json={"input": bill()})
    assert seg.status_code == 503 and seg.json()["error"]["code"] == "residency_unavailable"


async def test_a_tenant_over_its_quota_gets_429(client, small, engine_requests):
    tenant = small.tenants.create("스타트업", "KR")
    key, secret = small.keys.create(tenant.id, ["inference"])
    small.tenants.set_quota(tenant.id, 1)
    small.usage.record(tenant.id, key.id, MODEL, 5, 0)
    small.usage.flush()
    h = {"Authorization": f"Bearer {secret}"}
    r = await client.post(URL, headers=h, json={"input": bill(), "max_tokens": 32})
    assert r.status_code == 429 and r.json()["error"]["code"] == "quota_exceeded"
    seg = await client.post("/v1/korean/segment", headers=h, json={"input": bill()})
    assert seg.status_code == 429
    assert engine_requests == []
