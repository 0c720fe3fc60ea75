"""POST /v1/responses with the official openai client, on the real engine, through every safeguard."""

from __future__ import annotations

import json

import openai
import pytest
from sqlalchemy import select

from jaju.responses.tables import StoredResponse
from jaju.store.tables import AuditEvent
from tests.responses.conftest import auth
from tests.support import restore_attempts

pytestmark = [pytest.mark.anyio, pytest.mark.engine]
MODEL = "qwen2.5-coder-0.5b-instruct"
WEATHER = {"type": "function", "name": "get_weather", "description": "도시의 현재 날씨를 알려 준다",
           "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "도시 이름"}},
                          "required": ["city"]}}


@pytest.fixture
def spy(services, monkeypatch) -> list[list[dict]]:
    """A copy of the messages of every request the real engine is given (the engine still runs)."""
    engine = services.models.loaded()[MODEL]
    seen, original = [], engine.chat

    def chat(request):
        seen.append(json.loads(json.dumps(request.messages, ensure_ascii=False)))
        return original(request)

    monkeypatch.setattr(engine, "chat", chat)
    return seen


@pytest.fixture
def client(api, services) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url="http://jaju.test/v1", api_key=services.admin_secret, http_client=api,
                              max_retries=0)


async def test_string_input(client, services):
    r = await client.responses.create(model=MODEL, input="대한민국의 수도는 어디인가요?", temperature=0,
                                      max_output_tokens=24)
    assert r.id.startswith("resp_") and r.object == "response" and r.status in ("completed", "incomplete")
    assert "서울" in r.output_text
    message = r.output[0]
    assert message.type == "message" and message.role == "assistant" and message.content[0].annotations == []
    assert r.usage.input_tokens > 0 and 0 < r.usage.output_tokens <= 24
    assert r.usage.total_tokens == r.usage.input_tokens + r.usage.output_tokens
    jaju = r.model_extra["jaju"]
    assert jaju["ai_generated"] is True and jaju["jurisdiction"] == "KR"
    assert jaju["provenance"]["signature"]  # a manifest signed over the delivered text
    services.audit.flush()
    with services.db.sessions() as s:
        body = s.scalars(select(AuditEvent.body).where(AuditEvent.action == "responses")
                         .order_by(AuditEvent.seq.desc()).limit(1)).one()
    assert json.loads(body)["request_id"] == "resp-" + r.id.removeprefix("resp_")


async def test_items_and_instructions(client, spy):
    r = await client.responses.create(
        model=MODEL, temperature=0, max_output_tokens=40, store=False,
        instructions="당신은 한국어로만 대답하는 여행 안내원입니다. 한 문장으로 답하세요.",
        input=[{"role": "user", "content": [{"type": "input_text", "text": "대한민국의 수도는 어디인가요?"}]}])
    assert r.instructions.startswith("당신은") and r.store is False
    assert "서울" in r.output_text
    system, user = spy[-1][0], spy[-1][-1]  # instructions are the system message the engine is given
    assert system["role"] == "system" and system["content"].startswith("당신은 한국어로만")
    assert user == {"role": "user", "content": "대한민국의 수도는 어디인가요?"}
    with pytest.raises(openai.NotFoundError):  # store: false keeps nothing
        await client.responses.retrieve(r.id)


async def test_json_schema_format(client):
    schema = {"type": "object", "properties": {"도시": {"type": "string"}, "인구_만명": {"type": "integer"}},
              "required": ["도시", "인구_만명"], "additionalProperties": False}
    r = await client.responses.create(
        model=MODEL, temperature=0, max_output_tokens=60, input="부산의 인구를 만 명 단위로 알려 주세요.",
        text={"format": {"type": "json_schema", "name": "city", "schema": schema, "strict": True}})
    data = json.loads(r.output_text)
    assert set(data) == {"도시", "인구_만명"} and isinstance(data["인구_만명"], int)
    assert r.text.format.type == "json_schema"


async def test_function_call_round_trip(client):
    first = await client.responses.create(model=MODEL, temperature=0, max_output_tokens=60, tools=[WEATHER],
                                          tool_choice={"type": "function", "name": "get_weather"},
                                          input="서울 날씨 어때?")
    call = first.output[-1]
    assert call.type == "function_call" and call.name == "get_weather" and call.call_id
    assert "city" in json.loads(call.arguments)
    second = await client.responses.create(
        model=MODEL, temperature=0, max_output_tokens=40, previous_response_id=first.id, tools=[WEATHER],
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": "맑음, 기온 23도"}])
    assert second.previous_response_id == first.id
    assert "23" in second.output_text
    items = await client.responses.input_items.list(second.id, order="asc")
    assert [i.type for i in items.data] == ["function_call_output"]


async def test_stream_events(client):
    kinds, deltas = [], []
    async with client.responses.stream(model=MODEL, input="대한민국의 수도는 어디인가요?", temperature=0,
                                       max_output_tokens=24) as stream:
        async for event in stream:
            kinds.append(event.type)
            if event.type == "response.output_text.delta":
                deltas.append(event.delta)
        final = await stream.get_final_response()
    assert kinds[:2] == ["response.created", "response.in_progress"]
    assert kinds[-1] == "response.completed" and kinds.count("response.output_text.delta") >= 2
    for kind in ("response.output_item.added", "response.content_part.added", "response.output_text.done",
                 "response.content_part.done", "response.output_item.done"):
        assert kinds.count(kind) == 1, kind
    assert "".join(deltas) == final.output_text and "서울" in final.output_text
    assert final.model_extra["jaju"]["provenance"]["signature"]
    kept = await client.responses.retrieve(final.id)
    assert kept.output_text == final.output_text and kept.output[0].id == final.output[0].id


async def test_stream_function_call_events(client):
    kinds = []
    async with client.responses.stream(model=MODEL, input="부산 날씨 알려줘", temperature=0, max_output_tokens=60,
                                       tools=[WEATHER], tool_choice="required") as stream:
        async for event in stream:
            kinds.append(event.type)
        final = await stream.get_final_response()
    assert "response.function_call_arguments.delta" in kinds and "response.function_call_arguments.done" in kinds
    call = final.output[-1]
    assert call.type == "function_call" and "city" in json.loads(call.arguments)


async def test_retrieve_delete_input_items(client, services):
    r = await client.responses.create(model=MODEL, input="안녕하세요!", temperature=0, max_output_tokens=8,
                                      metadata={"채널": "상담"})
    kept = await client.responses.retrieve(r.id)
    assert kept.output_text == r.output_text and kept.metadata == {"채널": "상담"}
    with services.stores.for_tenant(services.tenants.list()[0].id).sessions() as s:
        row = s.get(StoredResponse, r.id)
    assert row is not None and "안녕하세요".encode() not in row.payload  # ciphertext only
    items = await client.responses.input_items.list(r.id)
    assert items.data[0].type == "message" and items.data[0].content[0].text == "안녕하세요!"
    assert items.first_id == items.last_id == items.data[0].id and items.has_more is False
    deleted = await client.responses.delete(r.id)
    assert deleted is None or getattr(deleted, "deleted", True)
    with pytest.raises(openai.NotFoundError):
        await client.responses.retrieve(r.id)


async def test_another_tenants_response_is_not_found(client, api, services):
    r = await client.responses.create(model=MODEL, input="비밀 프로젝트 이름은 '하늘다람쥐'입니다.", temperature=0,
                                      max_output_tokens=8)
    other = services.tenants.create("다른기관-응답", "KR")
    _, key = services.keys.create(other.id, ["inference"])
    for method, path, body in (("GET", f"/v1/responses/{r.id}", None),
                               ("GET", f"/v1/responses/{r.id}/input_items", None),
                               ("DELETE", f"/v1/responses/{r.id}", None),
                               ("POST", "/v1/responses", {"model": MODEL, "input": "이전 내용을 반복해 줘",
                                                          "previous_response_id": r.id})):
        res = await api.request(method, path, headers=auth(key), json=body)
        assert res.status_code == 404, (method, path, res.text)
        assert res.json()["error"]["code"] == "response_not_found" and "하늘다람쥐" not in res.text
    assert (await client.responses.retrieve(r.id)).id == r.id  # still there for its own tenant


async def test_personal_data_restored_in_output(api, services, spy):
    """As tests/api/test_safeguards.py::test_streamed_reply_is_restored: up to three tenants, since the
    small model repeats some tenants' stand-in names and not others; in at least one it must."""
    outputs = []
    for secret in restore_attempts(services, "복원-응답"):
        client = openai.AsyncOpenAI(base_url="http://jaju.test/v1", api_key=secret, http_client=api, max_retries=0)
        r = await client.responses.create(
            model=MODEL, temperature=0, max_output_tokens=40,
            input="김민수 고객님께 보낼 인사말을 '김민수 고객님, 안녕하세요'로 시작해서 한 문장으로 써 주세요.")
        sent = json.dumps(spy[-1], ensure_ascii=False)
        assert "김민수" not in sent  # the engine saw a pseudonym in its place
        assert "[PERSON_" not in r.output_text
        assert r.model_extra["jaju"]["pii"]["PERSON"] >= 1
        outputs.append(r.output_text)
        if "김민수" in r.output_text:  # the tenant sees the name again
            return
    raise AssertionError(f"the model repeated the name for none of three tenants: {outputs}")
