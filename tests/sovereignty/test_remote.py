"""RemoteBackend against real llama.cpp servers on loopback, and the egress guard in front of it."""

from __future__ import annotations

import json

import httpx
import numpy as np
import pytest

from jaju.engine.base import ChatRequest, CompletionRequest, SamplingParams
from jaju.engine.openai_reply import ToolCallAccumulator
from jaju.engine.remote import BackendUnavailable, RemoteBackend
from jaju.errors import ServiceError
from jaju.sovereignty.breaker import OPEN
from jaju.sovereignty.config import BackendConfig
from jaju.sovereignty.egress import EgressGuard, EgressRefused

QUESTION = [{"role": "user", "content": "대한민국의 수도는 어디인가요?"}]
GREEDY = SamplingParams(max_tokens=16, temperature=0.0, seed=1)
TOOLS = [{"type": "function", "function": {"name": "get_weather", "description": "도시의 날씨",
                                           "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                                                          "required": ["city"]}}}]


def kr_backend(server, recorder=None, **extra) -> RemoteBackend:
    cfg = BackendConfig(name="kr-llama", url=server.url, models={"qwen-kr": "served-name-is-ignored-by-llama"},
                        timeout=60, **extra)
    guard = EgressGuard({("127.0.0.1", server.port)}, recorder)
    return RemoteBackend(cfg, "KR", transport=guard)


async def collect(stream):
    return [d async for d in stream]


@pytest.mark.parametrize("stream", [True, False])
@pytest.mark.engine
@pytest.mark.anyio
async def test_chat_answers_korean(llama_servers, stream: bool):
    backend = kr_backend(llama_servers["KR"], stream=stream)
    try:
        deltas = await collect(backend.chat(ChatRequest("qwen-kr", QUESTION, GREEDY)))
    finally:
        await backend.close()
    text = "".join(d.text for d in deltas)
    assert "서울" in text
    last = deltas[-1]
    assert last.finish_reason in ("stop", "length") and last.usage is not None and last.usage.prompt_tokens > 10
    assert (len(deltas) > 2) == stream


@pytest.mark.engine
@pytest.mark.anyio
async def test_tools_are_passed_through_and_completions_work(llama_servers):
    backend = kr_backend(llama_servers["KR"])
    try:
        req = ChatRequest("qwen-kr", [{"role": "user", "content": "서울 날씨 알려줘"}], GREEDY, tools=TOOLS,
                          tool_choice="auto")
        deltas = await collect(backend.chat(req))
        assert deltas[-1].finish_reason in ("stop", "length", "tool_calls")
        assert deltas[-1].tool_calls is None or deltas[-1].tool_calls[0].name == "get_weather"
        done = await collect(backend.complete(CompletionRequest("qwen-kr", "대한민국의 수도는", GREEDY)))
        assert "".join(d.text for d in done).strip() and done[-1].finish_reason in ("stop", "length")
    finally:
        await backend.close()


@pytest.mark.engine
@pytest.mark.anyio
async def test_embeddings_tokens_health(llama_servers):
    backend = kr_backend(llama_servers["KR"])
    try:
        result = await backend.embed("qwen-kr", ["서울은 대한민국의 수도이다.", "부산은 항구 도시이다."])
        assert result.vectors.shape[0] == 2 and result.vectors.dtype == np.float32 and result.prompt_tokens > 0
        assert await backend.count_tokens("qwen-kr", text="안녕하세요") == 3
        n = await backend.count_tokens("qwen-kr", messages=QUESTION)
        assert n > 5 and not backend.tokens_estimated
        assert await backend.healthy()
        with pytest.raises(ServiceError) as e:
            backend.chat(ChatRequest("unknown-model", QUESTION))
        assert e.value.status == 404
    finally:
        await backend.close()


@pytest.mark.engine
@pytest.mark.anyio
async def test_upstream_client_errors_pass_through_without_tripping_the_breaker(llama_servers):
    backend = kr_backend(llama_servers["KR"])
    try:
        with pytest.raises(ServiceError) as e:
            await backend.embed("qwen-kr", [])
        assert 400 <= e.value.status < 500 and not isinstance(e.value, BackendUnavailable)
        assert backend.breaker.state != OPEN
    finally:
        await backend.close()


@pytest.mark.engine
@pytest.mark.anyio
async def test_undeclared_host_is_refused_and_audited(llama_servers, recorder):
    # Declared: only the KR server. A backend aimed at the EU server's port goes through the same guard.
    eu = llama_servers["EU"]
    guard = EgressGuard({("127.0.0.1", llama_servers["KR"].port)}, recorder)
    rogue = RemoteBackend(BackendConfig(name="rogue", url=eu.url, models=["qwen"]), "KR", transport=guard)
    before = eu.tasks()
    try:
        with pytest.raises(EgressRefused, match=f"127.0.0.1:{eu.port} refused"):
            await collect(rogue.chat(ChatRequest("qwen", QUESTION, GREEDY)))
        async with httpx.AsyncClient(transport=guard) as client:
            with pytest.raises(EgressRefused):
                await client.get("https://huggingface.co/api/models")
    finally:
        await rogue.close()
    assert eu.tasks() == before
    assert recorder.actions() == ["egress.refused", "egress.refused"]
    assert recorder.events[1].fields == {"target": "https://huggingface.co:443", "method": "GET"}


@pytest.mark.anyio
async def test_dead_server_trips_the_breaker():
    cfg = BackendConfig(name="dead", url="http://127.0.0.1:9", models=["m"], failure_threshold=2, reset_after=3600)
    backend = RemoteBackend(cfg, "KR")
    try:
        for _ in range(2):
            with pytest.raises(BackendUnavailable, match="ConnectError"):
                await collect(backend.chat(ChatRequest("m", QUESTION)))
        assert backend.breaker.state == OPEN
        with pytest.raises(BackendUnavailable, match="circuit is open"):
            await collect(backend.chat(ChatRequest("m", QUESTION)))
        assert not await backend.healthy()
    finally:
        await backend.close()


# OpenAI streams tool calls as pieces by index; these are the shapes vLLM and OpenAI send.
PIECES = [
    ([[{"index": 0, "id": "call_a", "type": "function", "function": {"name": "get_weather", "arguments": ""}}],
      [{"index": 0, "function": {"arguments": "{\"city\": "}}], [{"index": 0, "function": {"arguments": "\"서울\"}"}}]],
     [("call_a", "get_weather", {"city": "서울"})]),
    ([[{"index": 0, "id": "c1", "function": {"name": "a", "arguments": "{}"}},
       {"index": 1, "id": "c2", "function": {"name": "b", "arguments": "{\"x\""}}],
      [{"index": 1, "function": {"arguments": ": 1}"}}]],
     [("c1", "a", {}), ("c2", "b", {"x": 1})]),
    ([[{"index": 0, "function": {"name": "noid"}}]], [("call_0", "noid", {})]),
]


@pytest.mark.parametrize("chunks,expected", PIECES)
def test_tool_call_pieces_are_joined(chunks, expected):
    acc = ToolCallAccumulator()
    for c in chunks:
        acc.add(c)
    calls = acc.take()
    assert [(c.id, c.name, json.loads(c.arguments)) for c in calls] == expected
    assert acc.take() is None
