"""Upstreams that do not behave: every reply is either read correctly or refused with a clear 502/504.

A real HTTP server on loopback plays the misbehaving upstream (tests/sovereignty/misbehaving.py).
"""

from __future__ import annotations

import functools
import json

import pytest

from jaju.engine.base import ChatRequest, CompletionRequest, SamplingParams
from jaju.engine.openai_reply import InvalidReply, SilentBackend
from jaju.engine.remote import RemoteBackend
from jaju.errors import ServiceError
from jaju.privacy.hashing import TenantHasher
from jaju.sovereignty.breaker import CLOSED, OPEN
from jaju.sovereignty.config import BackendConfig
from jaju.sovereignty.factory import _cache_salt
from jaju.sovereignty.router import ResidencyRouter
from jaju.sovereignty.transfers import TransferService
from tests.sovereignty.misbehaving import ANSWER, USAGE, MisbehavingUpstream

pytestmark = pytest.mark.anyio
QUESTION = [{"role": "user", "content": "대한민국의 수도는 어디인가요?"}]
WHOLE = "".join(ANSWER)


@pytest.fixture(scope="module")
def upstream():
    with MisbehavingUpstream() as server:
        yield server


def remote(upstream, scenario: str, *, name: str = "kr-odd", jurisdiction: str = "KR", stream: bool = True,
           timeout: float = 30, threshold: int = 3) -> RemoteBackend:
    cfg = BackendConfig(name=name, url=upstream.url, models={"qwen": scenario}, stream=stream, timeout=timeout,
                        failure_threshold=threshold, reset_after=3600)
    return RemoteBackend(cfg, jurisdiction)


async def collect(stream) -> list:
    return [d async for d in stream]


@pytest.mark.parametrize("scenario", ["json", "json-untyped"])
async def test_json_reply_to_a_stream_request_is_read_whole(upstream, scenario):
    backend = remote(upstream, scenario)
    try:
        deltas = await collect(backend.chat(ChatRequest("qwen", QUESTION)))
    finally:
        await backend.close()
    assert "".join(d.text for d in deltas) == WHOLE
    last = deltas[-1]
    assert last.finish_reason == "stop"
    assert (last.usage.prompt_tokens, last.usage.completion_tokens) == (USAGE["prompt_tokens"],
                                                                         USAGE["completion_tokens"])
    assert backend.breaker.state == CLOSED


async def test_an_upstream_cookie_is_never_sent_back(upstream):
    """One client carries every tenant's requests to a backend: a cookie one reply sets must not ride along
    on the next request (another tenant's), nor may jaju keep it."""
    backend = RemoteBackend(BackendConfig(name="kr-lb", url=upstream.url, models={"a": "set-cookie", "b": "json"},
                                          stream=False), "KR")
    try:
        first = await collect(backend.chat(ChatRequest("a", QUESTION)))
        second = await collect(backend.chat(ChatRequest("b", QUESTION)))
    finally:
        await backend.close()
    assert "".join(d.text for d in first) == WHOLE == "".join(d.text for d in second)
    assert upstream.requests["json"] >= 1 and upstream.headers["json"]
    assert not [h for h in upstream.headers["json"] if h.startswith(b"cookie:")]


async def test_cache_salt_keeps_a_vllm_prefix_cache_per_tenant(upstream):
    """`cache_salt = true` (vLLM): each generation names its tenant's salt, the same in every process that shares
    the deployment's keys, different per tenant, and not the tenant's id in clear; off, no such field is sent."""
    salt = functools.partial(_cache_salt, TenantHasher(b"k" * 32))
    salted = RemoteBackend(BackendConfig(name="kr-vllm", url=upstream.url, models={"qwen": "json", "base": "text-json"},
                                         stream=False, cache_salt=True), "KR", salt=salt)
    plain = RemoteBackend(BackendConfig(name="kr-other", url=upstream.url, models={"qwen": "json"}, stream=False),
                          "KR", salt=salt)
    sent = []
    try:
        for backend, scope in ((salted, "ten_a"), (salted, "ten_b"), (salted, "ten_a"), (plain, "ten_a")):
            await collect(backend.chat(ChatRequest("qwen", QUESTION, cache_scope=scope)))
            sent.append(upstream.last["json"].get("cache_salt"))
        await collect(salted.complete(CompletionRequest("base", "서울은", cache_scope="ten_a")))
    finally:
        await salted.close()
        await plain.close()
    a, b, a_again, off = sent
    assert a and b and a != b and a == a_again and off is None
    assert "ten_a" not in a and a == _cache_salt(TenantHasher(b"k" * 32), "ten_a")  # another process agrees
    assert upstream.last["text-json"]["cache_salt"] == a  # text completions carry it too


async def test_text_completion_json_to_a_stream_request(upstream):
    backend = remote(upstream, "text-json")
    try:
        deltas = await collect(backend.complete(CompletionRequest("qwen", "대한민국의 수도는", SamplingParams())))
    finally:
        await backend.close()
    assert "".join(d.text for d in deltas) == WHOLE
    assert deltas[-1].finish_reason == "length" and deltas[-1].usage.completion_tokens == USAGE["completion_tokens"]


async def test_sse_reply_to_a_plain_request_is_joined(upstream):
    backend = remote(upstream, "sse", stream=False)
    tools = remote(upstream, "sse-tools", stream=False)
    try:
        deltas = await collect(backend.chat(ChatRequest("qwen", QUESTION)))
        called = await collect(tools.chat(ChatRequest("qwen", [{"role": "user", "content": "서울 날씨 알려줘"}])))
    finally:
        await backend.close()
        await tools.close()
    assert "".join(d.text for d in deltas) == WHOLE
    assert deltas[-1].finish_reason == "stop" and deltas[-1].usage.prompt_tokens == USAGE["prompt_tokens"]
    last = called[-1]
    assert last.finish_reason == "tool_calls"
    assert [(c.id, c.name, c.arguments) for c in last.tool_calls] == [("call_w", "get_weather",
                                                                       "{\"city\": \"서울\"}")]


GARBAGE = [
    ("html", "text/html body", "<html><head><title>502 Bad Gateway</title>"),
    ("empty", "an empty body", None),
    ("not-json", "not valid JSON", "{\"choices\": [??"),
    ("not-openai", "without choices", None),
    ("error-200", "an error object with a success status", "model overloaded"),
    ("plain", "text/plain body", "???? ######-####### ??"),
    ("bad-first", "stream chunk that is not valid JSON", "<html>oops</html>"),
    ("only-done", "without a single completion chunk", None),
]


@pytest.mark.parametrize("stream", [True, False])
@pytest.mark.parametrize("scenario,problem,shown", GARBAGE)
async def test_garbage_is_a_502_that_counts_against_the_circuit(upstream, scenario, problem, shown, stream):
    backend = remote(upstream, scenario, stream=stream, threshold=2)
    try:
        for _ in range(2):
            with pytest.raises(InvalidReply) as e:
                await collect(backend.chat(ChatRequest("qwen", QUESTION)))
    finally:
        await backend.close()
    err = e.value
    assert (err.status, err.type, err.code) == (502, "api_error", "upstream_invalid_response")
    assert err.message.startswith("Backend kr-odd sent an invalid response:") and problem in err.message
    if shown is not None:
        assert f"It began: '{shown}" in err.message
    assert "900101" not in err.message and "서울" not in err.message  # no personal data from the body
    assert backend.breaker.state == OPEN


@pytest.mark.parametrize("scenario,problem", [("truncated", "ended before the reply was complete"),
                                              ("bad-chunk", "stream chunk that is not valid JSON")])
async def test_a_stream_that_breaks_after_text_ends_in_a_502(upstream, scenario, problem):
    backend = remote(upstream, scenario, threshold=1)
    got = []
    try:
        with pytest.raises(InvalidReply, match=problem):
            async for d in backend.chat(ChatRequest("qwen", QUESTION)):
                got.append(d.text)
    finally:
        await backend.close()
    assert "".join(got) in (ANSWER[0], ANSWER[0] + ANSWER[1])  # what came before the break, nothing invented
    assert backend.breaker.state == OPEN


@pytest.mark.parametrize("scenario,before", [("hang", [ANSWER[0]]), ("hang-first", [])])
async def test_silence_between_chunks_is_a_504_not_a_hang(upstream, scenario, before):
    backend = remote(upstream, scenario, timeout=0.5, threshold=1)
    got = []
    try:
        with pytest.raises(SilentBackend) as e:
            async for d in backend.chat(ChatRequest("qwen", QUESTION)):
                got.append(d.text)
    finally:
        await backend.close()
    assert [t for t in got if t] == before
    assert (e.value.status, e.value.code) == (504, "upstream_timeout")
    assert e.value.message == "Backend kr-odd sent nothing for 0.5 s (its read timeout); the request was abandoned."
    assert backend.breaker.state == OPEN


# --- the router: fail over before the first byte, only where the tenant may go ------------------

@pytest.fixture
async def pair(upstream, db, recorder):
    """KR home answers with `kr`; EU (abroad) answers properly; built per test through `make`."""
    made = []

    def make(kr: str, *, timeout: float = 30) -> tuple[ResidencyRouter, TransferService]:
        backends = [remote(upstream, kr, timeout=timeout), remote(upstream, "sse", name="eu-good", jurisdiction="EU")]
        made.extend(backends)
        transfers = TransferService(db, recorder, {"KR", "EU"})
        return ResidencyRouter(backends, transfers, recorder), transfers
    yield make
    for backend in made:
        await backend.close()


async def ask(router: ResidencyRouter) -> tuple[str, dict]:
    used: dict = {}
    text = "".join([d.text async for d in router.chat(ChatRequest("qwen", QUESTION), "ten_kr", used=used)])
    return text, used


@pytest.mark.parametrize("scenario,status", [("html", 502), ("bad-first", 502), ("hang-first", 504)])
async def test_no_basis_means_the_upstream_error_and_nothing_abroad(upstream, pair, scenario, status):
    router, _ = pair(scenario, timeout=0.5)
    before = upstream.requests["sse"]
    with pytest.raises(ServiceError) as e:
        await ask(router)
    assert e.value.status == status and "kr-odd (KR)" in e.value.message
    assert upstream.requests["sse"] == before  # the EU backend was never asked
    assert router.health()["kr-odd"] is False


async def test_with_a_basis_garbage_at_home_fails_over_before_the_first_byte(upstream, pair, recorder):
    router, transfers = pair("html")
    transfers.add("ten_kr", "EU", "PIPA 28-8(1)1 consent", "동의서-2026-21")
    text, used = await ask(router)
    assert text == WHOLE and used["jurisdiction"] == "EU"
    assert [e.fields["basis"] for e in recorder.events if e.action == "transfer.allowed"] == ["PIPA 28-8(1)1 consent"]


async def test_after_the_first_byte_there_is_no_detour(upstream, pair, recorder):
    router, transfers = pair("truncated")
    transfers.add("ten_kr", "EU", "PIPA 28-8(1)1 consent")
    before = upstream.requests["sse"]
    got = []
    with pytest.raises(InvalidReply, match="ended before the reply was complete"):
        async for d in router.chat(ChatRequest("qwen", QUESTION), "ten_kr"):
            got.append(d.text)
    assert "".join(got) == ANSWER[0] + ANSWER[1]
    assert upstream.requests["sse"] == before
    assert not [e for e in recorder.events if e.action == "transfer.allowed"]


# --- through the API: never an empty success ---------------------------------------------------

@pytest.fixture
def odd_models(services, upstream):
    """Two remote models on the in-process app: one upstream ignores `stream`, one sends an HTML page."""
    backends = [RemoteBackend(BackendConfig(name=f"kr-{s}", url=upstream.url, models={f"odd-{s}": s}), "KR")
                for s in ("json", "html")]
    router = services.sovereignty.router
    router.backends.extend(backends)
    yield
    for b in backends:
        router.backends.remove(b)


@pytest.mark.engine
async def test_api_restores_a_json_reply_as_a_stream_and_refuses_html(api, services, odd_models):
    auth = {"Authorization": f"Bearer {services.admin_secret}"}
    body = {"model": "odd-json", "messages": QUESTION, "stream": True, "stream_options": {"include_usage": True}}
    async with api.stream("POST", "/v1/chat/completions", json=body, headers=auth) as r:
        assert r.status_code == 200
        lines = [line async for line in r.aiter_lines() if line.startswith("data:")]
    chunks = [json.loads(line[5:]) for line in lines[:-1]]
    assert lines[-1] == "data: [DONE]"
    text = "".join((c["choices"][0]["delta"].get("content") or "") for c in chunks if c.get("choices"))
    assert text == WHOLE
    assert chunks[-1]["usage"]["prompt_tokens"] == USAGE["prompt_tokens"]
    assert chunks[-1]["usage"]["completion_tokens"] == USAGE["completion_tokens"]
    for stream in (False, True):
        r = await api.post("/v1/chat/completions", headers=auth,
                           json={"model": "odd-html", "messages": QUESTION, "stream": stream})
        assert r.status_code == 502
        err = r.json()["error"]
        assert err["code"] == "upstream_invalid_response" and err["type"] == "api_error"
        assert "Backend kr-html sent an invalid response: a text/html body" in err["message"]
