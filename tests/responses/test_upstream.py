"""RemoteBackend.respond: a prepared request sent to an engine's own /v1/responses, its reply read back.

Answers come from the real llama.cpp `llama-server`; the stand-in upstream (standin.py) only plays
replies a real engine should not send, to show each becomes a 502/504 rather than an empty success.
"""

from __future__ import annotations

import json

import httpx
import pytest

from jaju.engine.base import ChatRequest, SamplingParams
from jaju.engine.openai_reply import InvalidReply, SilentBackend
from jaju.engine.remote import RemoteBackend
from jaju.sovereignty.breaker import OPEN
from jaju.sovereignty.config import BackendConfig
from jaju.sovereignty.egress import EgressGuard
from tests.responses.standin import ANSWER, USAGE

pytestmark = pytest.mark.anyio
QUESTION = "대한민국의 수도는 어디인가요?"
GREEDY = SamplingParams(max_tokens=24, temperature=0.0)
TOOLS = [{"type": "function", "function": {"name": "get_weather", "description": "도시의 현재 날씨를 알려 준다",
                                           "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                                                          "required": ["city"]}}}]


class Recording(httpx.AsyncBaseTransport):
    """Passes requests on and keeps (method, path, JSON body) of each, as the engine received them."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.seen: list[tuple[str, str, dict]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else {}
        self.seen.append((request.method, request.url.path, body))
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def remote(url: str, port: int, mode: str, wire: Recording | None = None, **extra) -> RemoteBackend:
    cfg = BackendConfig(name="kr-up", url=url, models={"qwen": extra.pop("remote", "qwen")}, responses=mode,
                        **{"timeout": 60, **extra})
    return RemoteBackend(cfg, "KR", transport=EgressGuard({("127.0.0.1", port)}, None, inner=wire))


async def collect(stream) -> list:
    return [d async for d in stream]


# --- the real engine ------------------------------------------------------------------------------
@pytest.mark.engine
@pytest.mark.parametrize("stream", [True, False])
async def test_auto_asks_once_then_sends_the_responses_form(llama_server, stream):
    wire = Recording()
    backend = remote(llama_server.url, llama_server.port, "auto", wire)
    try:
        assert await backend.speaks_responses() is True
        assert await backend.speaks_responses() is True
        assert wire.seen == [("POST", "/v1/responses", {})]  # asked once, with an empty body
        request = ChatRequest("qwen", [{"role": "system", "content": "한 문장으로 답하세요."},
                                       {"role": "user", "content": QUESTION}], GREEDY, stream=stream)
        deltas = await collect(backend.respond(request))
    finally:
        await backend.close()
    method, path, body = wire.seen[-1]
    assert (method, path) == ("POST", "/v1/responses") and "messages" not in body
    assert body["instructions"] == "한 문장으로 답하세요."
    assert body["input"] == [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": QUESTION}]}]
    assert body["store"] is False and body["max_output_tokens"] == 24 and body.get("stream", False) is stream
    assert "서울" in "".join(d.text for d in deltas)
    last = deltas[-1]
    assert last.finish_reason in ("stop", "length") and last.usage.prompt_tokens > 0
    assert 0 < last.usage.completion_tokens <= 24
    if stream:
        assert len([d for d in deltas if d.text]) >= 2  # text arrived as the engine made it


@pytest.mark.engine
async def test_tools_calls_and_results_travel_as_items(llama_server):
    wire = Recording()
    backend = remote(llama_server.url, llama_server.port, "native", wire)
    call = {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"서울\"}"}}
    turn = [{"role": "user", "content": "서울 날씨 어때?"}, {"role": "assistant", "content": None, "tool_calls": [call]},
            {"role": "tool", "tool_call_id": "call_1", "content": "맑음, 기온 23도"}]
    try:
        deltas = await collect(backend.respond(ChatRequest("qwen", turn, SamplingParams(max_tokens=40, temperature=0.0),
                                                           tools=TOOLS, tool_choice="auto")))
    finally:
        await backend.close()
    (_, path, body), = wire.seen  # "native": no probe first
    assert path == "/v1/responses"
    assert body["tools"] == [{"type": "function", "name": "get_weather", "description": "도시의 현재 날씨를 알려 준다",
                              "parameters": TOOLS[0]["function"]["parameters"]}]
    assert body["tool_choice"] == "auto" and body["parallel_tool_calls"] is True
    assert body["input"][1:] == [
        {"type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": "{\"city\": \"서울\"}"},
        {"type": "function_call_output", "call_id": "call_1", "output": "맑음, 기온 23도"}]
    assert "23" in "".join(d.text for d in deltas)  # the engine read the result it was given as an item


@pytest.mark.engine
async def test_translate_never_asks(llama_server):
    wire = Recording()
    backend = remote(llama_server.url, llama_server.port, "translate", wire)
    try:
        assert await backend.speaks_responses() is False
    finally:
        await backend.close()
    assert wire.seen == []


# --- the stand-in: jaju's reading of replies it did not make --------------------------------------
async def test_auto_on_a_server_without_the_route(standin):
    backend = remote(standin.url, standin.port, "auto")
    before = standin.requests[""]
    try:
        assert await backend.speaks_responses() is False
        assert await backend.speaks_responses() is False
    finally:
        await backend.close()
    assert standin.requests[""] == before + 1  # the 404 is remembered


@pytest.mark.parametrize("scenario,stream", [("resp-json", False), ("resp-json", True), ("resp-sse", True),
                                             ("resp-sse", False), ("resp-final-only", True)])
async def test_json_and_event_replies_are_read(standin, scenario, stream):
    backend = remote(standin.url, standin.port, "native", remote=scenario)
    try:
        deltas = await collect(backend.respond(ChatRequest("qwen", [{"role": "user", "content": QUESTION}],
                                                           stream=stream)))
    finally:
        await backend.close()
    assert "".join(d.text for d in deltas) == "".join(ANSWER)
    last = deltas[-1]
    assert last.finish_reason == "stop" and last.tool_calls is None
    assert (last.usage.prompt_tokens, last.usage.completion_tokens) == (USAGE["input_tokens"], USAGE["output_tokens"])


async def test_streamed_function_call_and_incomplete_reply(standin):
    tools = remote(standin.url, standin.port, "native", remote="resp-sse-tools")
    short = remote(standin.url, standin.port, "native", remote="resp-incomplete")
    try:
        called = await collect(tools.respond(ChatRequest("qwen", [{"role": "user", "content": "서울 날씨"}])))
        cut = await collect(short.respond(ChatRequest("qwen", [{"role": "user", "content": QUESTION}])))
    finally:
        await tools.close()
        await short.close()
    assert [(c.id, c.name, c.arguments) for c in called[-1].tool_calls] == [("call_w", "get_weather",
                                                                            "{\"city\": \"서울\"}")]
    assert called[-1].finish_reason == "tool_calls"
    assert cut[-1].finish_reason == "length" and "".join(d.text for d in cut) == "대한민국의"


GARBAGE = [
    ("resp-chat-json", "chat.completion that is not a Response", None),
    ("resp-chat-sse", "not a Responses event", "{\"id\": \"chatcmpl-1\""),
    ("resp-failed", "an error in the middle of the stream", "model crashed"),
    ("resp-failed-json", "a failed response", "model crashed"),
    ("resp-unknown-item", "did not ask for (web_search_call)", None),
]


@pytest.mark.parametrize("scenario,problem,shown", GARBAGE)
async def test_replies_that_are_not_responses_are_502(standin, scenario, problem, shown):
    backend = remote(standin.url, standin.port, "native", remote=scenario, failure_threshold=2)
    try:
        for _ in range(2):
            with pytest.raises(InvalidReply) as e:
                await collect(backend.respond(ChatRequest("qwen", [{"role": "user", "content": QUESTION}])))
    finally:
        await backend.close()
    err = e.value
    assert (err.status, err.type, err.code) == (502, "api_error", "upstream_invalid_response")
    assert err.message.startswith("Backend kr-up sent an invalid response:") and problem in err.message
    if shown is not None:
        assert f"It began: '{shown}" in err.message
    assert backend.breaker.state == OPEN  # garbage counts against the circuit like a server that is down


@pytest.mark.parametrize("scenario,problem", [("resp-truncated", "ended before the reply was complete"),
                                              ("resp-bad-event", "stream event that is not valid JSON")])
async def test_a_stream_that_breaks_after_text_is_502(standin, scenario, problem):
    backend = remote(standin.url, standin.port, "native", remote=scenario)
    got: list = []
    try:
        with pytest.raises(InvalidReply) as e:
            async for d in backend.respond(ChatRequest("qwen", [{"role": "user", "content": QUESTION}])):
                got.append(d.text)
    finally:
        await backend.close()
    assert got and "".join(got) in "".join(ANSWER)  # some text came before the break
    assert e.value.status == 502 and problem in e.value.message


async def test_silence_between_events_is_504(standin):
    backend = remote(standin.url, standin.port, "native", remote="resp-hang", timeout=1)
    got: list = []
    try:
        with pytest.raises(SilentBackend) as e:
            async for d in backend.respond(ChatRequest("qwen", [{"role": "user", "content": QUESTION}])):
                got.append(d.text)
    finally:
        await backend.close()
    assert "".join(got) == ANSWER[0]
    assert (e.value.status, e.value.code) == (504, "upstream_timeout") and "sent nothing for 1 s" in e.value.message
