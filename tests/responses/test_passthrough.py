"""/v1/responses passed through to a remote engine that serves it itself, with every safeguard of chat.

The app is built by build_services from settings that declare two KR backends: the real llama.cpp
`llama-server` (`responses = "auto"`: jaju asks it once and finds the route) and, for misbehaviour only,
the stand-in upstream (`responses = "native"`). Clients are the official openai SDK.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import openai
import pytest
from sqlalchemy import select

from jaju.app import create_app
from jaju.cli.serve import bootstrap
from jaju.services import build_services
from jaju.store.tables import AuditEvent
from tests.responses.conftest import auth
from tests.responses.standin import ANSWER
from tests.support import close_services, make_settings

pytestmark = [pytest.mark.anyio, pytest.mark.engine]
MODEL = "qwen-remote"
GREET = {"type": "function", "name": "send_greeting", "description": "고객에게 인사 메시지를 보낸다",
         "parameters": {"type": "object", "properties": {"name": {"type": "string", "description": "고객 이름"}},
                        "required": ["name"]}}


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
async def remote_services(tmp_path_factory, llama_server, standin) -> AsyncIterator:
    """Held for the module, so its tests share one event loop (the engines' HTTP connections belong to it)."""
    backends = [{"name": "kr-llama", "url": llama_server.url, "models": {MODEL: "qwen"}, "responses": "auto",
                 "timeout": 120},
                {"name": "kr-llama-chat", "url": llama_server.url, "models": {"qwen-translated": "qwen"},
                 "responses": "translate", "timeout": 120},
                {"name": "kr-odd", "url": standin.url, "responses": "native", "timeout": 2, "failure_threshold": 100,
                 "models": {"odd-chat": "resp-chat-json", "odd-truncated": "resp-truncated",
                            "odd-silent": "resp-hang-first", "odd-echo": "resp-echo"}}]
    settings = make_settings(tmp_path_factory.mktemp("passthrough"), jurisdictions={"KR": {"backends": backends}})
    svc = build_services(settings)
    svc.admin_secret = bootstrap(svc)
    yield svc
    await svc.sovereignty.aclose()
    close_services(svc)


@pytest.fixture
async def api(remote_services):
    app = create_app(services=remote_services, load_models=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://jaju.test") as client:
        yield client


@pytest.fixture
def client(api, remote_services) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url="http://jaju.test/v1", api_key=remote_services.admin_secret, http_client=api,
                              max_retries=0)


@pytest.fixture
def sent(remote_services, monkeypatch) -> list[list[dict]]:
    """The messages of every request passed through to llama-server (the request still goes there)."""
    backend = remote_services.sovereignty.router.named("kr-llama")
    seen, original = [], backend.respond

    def respond(request):
        seen.append(json.loads(json.dumps(request.messages, ensure_ascii=False)))
        return original(request)

    monkeypatch.setattr(backend, "respond", respond)
    return seen


def last_audit(services, action: str = "responses") -> dict:
    services.audit.flush()
    with services.db.sessions() as s:
        body = s.scalars(select(AuditEvent.body).where(AuditEvent.action == action)
                         .order_by(AuditEvent.seq.desc()).limit(1)).one()
    return json.loads(body)


async def test_create_is_passed_through_labelled_metered_and_audited(client, remote_services, sent):
    tenant = remote_services.tenants.list()[0].id
    remote_services.usage.flush()
    used_before = remote_services.usage.month_tokens(tenant)
    r = await client.responses.create(model=MODEL, instructions="한 문장으로 답하세요.", input="대한민국의 수도는 어디인가요?",
                                      temperature=0, max_output_tokens=24)
    assert len(sent) == 1 and sent[0][0] == {"role": "system", "content": "한 문장으로 답하세요."}
    assert await remote_services.sovereignty.router.named("kr-llama").speaks_responses() is True  # found by asking
    assert r.id.startswith("resp_") and r.status in ("completed", "incomplete") and "서울" in r.output_text
    assert r.instructions == "한 문장으로 답하세요." and r.usage.input_tokens > 0 and 0 < r.usage.output_tokens <= 24
    jaju = r.model_extra["jaju"]
    assert jaju["upstream_api"] == "responses" and jaju["backend"] == "kr-llama" and jaju["jurisdiction"] == "KR"
    assert jaju["ai_generated"] is True and jaju["provenance"]["signature"]
    event = last_audit(remote_services)
    assert event["request_id"] == "resp-" + r.id.removeprefix("resp_")
    assert event["upstream_api"] == "responses" and event["backend"] == "kr-llama"
    assert event["completion_tokens"] == r.usage.output_tokens
    remote_services.usage.flush()
    assert remote_services.usage.month_tokens(tenant) == used_before + r.usage.total_tokens
    kept = await client.responses.retrieve(r.id)  # stored by jaju (the engine was told store: false)
    assert kept.output_text == r.output_text and kept.model_extra["jaju"]["upstream_api"] == "responses"


async def test_a_translating_backend_gets_a_chat_completion(client, sent):
    r = await client.responses.create(model="qwen-translated", input="대한민국의 수도는 어디인가요?", temperature=0,
                                      max_output_tokens=24)
    assert sent == [] and "서울" in r.output_text  # the same engine, asked through /v1/chat/completions
    assert r.model_extra["jaju"]["upstream_api"] == "chat" and r.model_extra["jaju"]["backend"] == "kr-llama-chat"


async def test_stream_is_passed_through_with_personal_data_restored(client, sent):
    kinds, deltas = [], []
    async with client.responses.stream(
            model=MODEL, temperature=0, max_output_tokens=40,
            input="김민수 고객님께 보낼 인사말을 '김민수 고객님, 안녕하세요'로 시작해서 한 문장으로 써 주세요.") as stream:
        async for event in stream:
            kinds.append(event.type)
            if event.type == "response.output_text.delta":
                deltas.append(event.delta)
        final = await stream.get_final_response()
    assert "김민수" not in json.dumps(sent[-1], ensure_ascii=False)  # the engine saw a pseudonym
    assert kinds[:2] == ["response.created", "response.in_progress"] and kinds[-1] == "response.completed"
    assert kinds.count("response.output_text.delta") >= 2
    text = "".join(deltas)
    assert text == final.output_text and "김민수" in text and "[PERSON" not in text  # restored as it streamed
    jaju = final.model_extra["jaju"]
    assert jaju["upstream_api"] == "responses" and jaju["pii"]["PERSON"] >= 1 and jaju["provenance"]["signature"]
    kept = await client.responses.retrieve(final.id)  # kept as the storage purpose allows: no raw name
    assert kept.id == final.id and "고객님" in kept.output_text and "김민수" not in kept.output_text


async def test_conversation_continued_from_jajus_own_store(client, sent):
    first = await client.responses.create(model=MODEL, temperature=0, max_output_tokens=24,
                                          input="제가 제일 좋아하는 과일은 사과입니다. 기억해 주세요.")
    second = await client.responses.create(model=MODEL, temperature=0, max_output_tokens=24,
                                           previous_response_id=first.id, input="제가 제일 좋아하는 과일이 뭐라고 했죠?")
    # The engine keeps nothing (store: false); jaju sent it the whole conversation from the tenant's store.
    assert [m["role"] for m in sent[-1]] == ["user", "assistant", "user"]
    assert sent[-1][0]["content"].startswith("제가 제일 좋아하는 과일은 사과") and sent[-1][1]["content"] == first.output_text
    assert second.previous_response_id == first.id and "사과" in second.output_text
    assert second.model_extra["jaju"]["upstream_api"] == "responses"


@pytest.mark.parametrize("stream", [True, False])
async def test_pseudonyms_from_the_engine_are_restored_in_text_and_call_arguments(client, standin, stream):
    """The stand-in says back what it was sent, two characters an event, and calls a function with it."""
    said = "김민수 고객님께 인사 메시지를 보내 주세요."
    args = {"model": "odd-echo", "input": said, "tools": [GREET]}
    if stream:
        deltas = []
        async with client.responses.stream(**args) as events:
            async for event in events:
                if event.type == "response.output_text.delta":
                    deltas.append(event.delta)
            r = await events.get_final_response()
        assert "".join(deltas) == said  # restored as it streamed, pieces of the pseudonym included
    else:
        r = await client.responses.create(**args)
    assert "김민수" not in json.dumps(standin.last["resp-echo"], ensure_ascii=False)  # what left jaju
    assert r.output_text == said
    call = r.output[-1]
    assert call.type == "function_call" and json.loads(call.arguments) == {"name": said}
    assert r.model_extra["jaju"]["pii"]["PERSON"] >= 1 and r.model_extra["jaju"]["upstream_api"] == "responses"


async def test_residency_fails_closed_before_anything_is_sent(api, remote_services, sent):
    tenant = remote_services.tenants.create("사우디기관-응답", "SA")
    _, key = remote_services.keys.create(tenant.id, ["inference"])
    res = await api.post("/v1/responses", headers=auth(key), json={"model": MODEL, "input": "안녕하세요"})
    assert res.status_code == 503
    err = res.json()["error"]
    assert err["code"] == "residency_unavailable" and "SA" in err["message"]
    assert sent == []  # nothing reached the KR engine
    _, no_inference = remote_services.keys.create(tenant.id, ["knowledge"])
    res = await api.post("/v1/responses", headers=auth(no_inference), json={"model": MODEL, "input": "안녕하세요"})
    assert res.status_code == 403 and res.json()["error"]["type"]


async def test_misbehaving_engine_is_a_clear_502_or_504(client, remote_services):
    with pytest.raises(openai.APIStatusError) as e:
        await client.responses.create(model="odd-chat", input="안녕하세요")
    assert e.value.status_code == 502 and e.value.body["code"] == "upstream_invalid_response"
    assert "kr-odd" in e.value.body["message"] and "not a Response" in e.value.body["message"]
    assert last_audit(remote_services)["status"] == 502  # the failure is on the record too
    with pytest.raises(openai.APIStatusError) as e:
        await client.responses.create(model="odd-silent", input="안녕하세요")
    assert e.value.status_code == 504 and e.value.body["code"] == "upstream_timeout"


async def test_a_passed_through_stream_cut_short_ends_failed(client):
    stream = await client.responses.create(model="odd-truncated", input="대한민국의 수도는?", stream=True)
    kinds, text = [], ""
    async for event in stream:
        kinds.append(event.type)
        if event.type == "response.output_text.delta":
            text += event.delta
        if event.type == "error":
            assert event.code == "upstream_invalid_response" and "ended before the reply was complete" in event.message
    assert text and "".join(ANSWER).startswith(text)  # what came before the break, never claimed complete
    assert kinds[-2:] == ["error", "response.failed"] and "response.completed" not in kinds
