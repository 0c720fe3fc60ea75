"""The engine behind ZeroMQ: what a worker gets through `EngineClient` is what the engine gives in-process.

The engine server runs on its own thread and event loop over the session's loaded engine (the real
llama.cpp model and e5), the client on the test's loop, on a real unix socket.
"""

from __future__ import annotations

import asyncio
import threading
import time

import numpy as np
import pytest
import zmq

from jaju.compliance.watermark import GreenList, WatermarkHook
from jaju.protocol.logit_bias import logit_bias_hook
from jaju.engine.base import ChatRequest, CompletionRequest, SamplingParams
from jaju.engine.catalog import EMBEDDING_MODEL
from jaju.engine.ipc.client import EngineClient, EngineConnection, RemoteE5Backend
from jaju.engine.ipc.server import EngineServer
from jaju.engine.ipc.channel import ChannelReader
from jaju.engine.ipc.wire import CHAT, channel_path, dumps, loads
from jaju.errors import ApiError

pytestmark = [pytest.mark.engine, pytest.mark.anyio]
MODEL = "qwen2.5-coder-0.5b-instruct"
QUESTION = "대한민국의 수도는 어디인가요?"


@pytest.fixture(scope="module")
def served(services, tmp_path_factory):
    """An EngineServer on its own thread and loop, over the session's loaded models: (endpoint, server)."""
    run = tmp_path_factory.mktemp("ipc")
    ep = f"ipc://{run / 'engine.sock'}"
    server = EngineServer(services.models, ep)
    loop = asyncio.new_event_loop()
    bound = threading.Event()

    def run_loop():
        asyncio.set_event_loop(loop)
        server.bind()
        bound.set()
        try:
            loop.run_until_complete(server.serve())
        except asyncio.CancelledError:
            pass
        server.close()
        loop.close()

    thread = threading.Thread(target=run_loop, name="test-engine-server", daemon=True)
    thread.start()
    bound.wait(10)
    yield ep, server
    loop.call_soon_threadsafe(lambda: [t.cancel() for t in asyncio.all_tasks(loop)])
    thread.join(10)


@pytest.fixture(scope="module")
def endpoint(served):
    return served[0]


@pytest.fixture
async def conn(endpoint):
    c = EngineConnection(endpoint)
    yield c
    await c.aclose()


@pytest.fixture
def local(services):
    return services.models.loaded()[MODEL]


@pytest.fixture
def client(conn, local):
    return EngineClient(conn, local.info)


def ask(text: str = QUESTION, max_tokens: int = 24, hooks=None) -> ChatRequest:
    return ChatRequest(model=MODEL, messages=[{"role": "user", "content": text}],
                       sampling=SamplingParams(max_tokens=max_tokens, temperature=0, repetition_penalty=1.0),
                       logits_hooks=list(hooks or []))


async def collect(stream) -> tuple[str, object]:
    text, last = "", None
    async for d in stream:
        text += d.text
        last = d
    return text, last


async def wait_idle(scheduler, slots: int) -> None:
    deadline = time.monotonic() + 60  # one decode step, but this machine may be busy
    while time.monotonic() < deadline:  # the engine thread frees a cancelled slot before its next step
        if scheduler.active == 0 and scheduler.queue_depth == 0 and len(scheduler._free_slots) == slots:
            return
        await asyncio.sleep(0.02)


async def test_chat_through_the_engine_process_matches_in_process(client, local):
    remote_text, remote_last = await collect(client.chat(ask()))
    local_text, local_last = await collect(local.chat(ask()))
    assert "서울" in remote_text
    assert remote_text == local_text
    assert remote_last.finish_reason == local_last.finish_reason
    assert remote_last.usage.completion_tokens == local_last.usage.completion_tokens > 0


async def test_completion_and_token_counts_match(client, local):
    req = CompletionRequest(model=MODEL, prompt="대한민국의 수도는",
                            sampling=SamplingParams(max_tokens=8, temperature=0, repetition_penalty=1.0))
    assert (await collect(client.complete(req)))[0] == (await collect(local.complete(req)))[0]
    text = "주민등록번호는 개인정보입니다."
    assert client.tokenize(text, special=False) == local.tokenize(text, special=False)
    messages = [{"role": "user", "content": QUESTION}]
    assert await client.count_tokens(MODEL, messages=messages) == await local.count_tokens(MODEL, messages=messages)
    assert client.render_chat(ask()) == local.render_chat(ask())


async def test_watermark_crosses_as_a_description(client, local):
    hook = WatermarkHook(GreenList(b"k" * 32, 0.25), 4.0)
    remote_text, _ = await collect(client.chat(ask("서울을 소개해 주세요.", 32, [hook])))
    local_text, _ = await collect(local.chat(ask("서울을 소개해 주세요.", 32, [hook])))
    plain_text, _ = await collect(local.chat(ask("서울을 소개해 주세요.", 32)))
    assert remote_text == local_text  # rebuilt in the engine, it shifts the same logits
    assert remote_text != plain_text  # and it did shift them


async def test_a_hook_that_cannot_cross_is_refused_clearly(client):
    with pytest.raises(ApiError) as e:
        await collect(client.chat(ask(hooks=[lambda ids, logits: None])))
    assert e.value.status == 500 and e.value.code == "logits_hook_not_portable"


async def test_engine_errors_keep_their_status_and_code(client):
    with pytest.raises(ApiError) as e:
        await collect(client.chat(ask("가나다라 " * 3000)))
    assert e.value.status == 400 and e.value.code == "context_length_exceeded"


async def test_closing_the_stream_frees_the_slot(client, local):
    stream = client.chat(ask("한국의 역사를 길게 설명해 주세요.", 400))
    got = 0
    async for _ in stream:
        got += 1
        if got == 3:
            break
    await stream.aclose()
    await wait_idle(local.scheduler, local.settings.parallel)
    assert local.scheduler.active == 0
    assert len(local.scheduler._free_slots) == local.settings.parallel  # every slot free again


async def test_a_worker_that_vanishes_frees_its_slots(endpoint, local):
    """A worker killed mid-stream sends no cancel; the engine notices on its next send and cancels."""
    ctx = zmq.Context()
    sock = ctx.socket(zmq.DEALER)
    sock.connect(endpoint)
    sock.send(dumps((CHAT, 1, (ask("한국의 역사를 길게 설명해 주세요.", 400), []))))
    assert sock.poll(60_000)  # generating: the first deltas arrived
    sock.recv()
    sock.close(linger=0)
    ctx.term()
    await wait_idle(local.scheduler, local.settings.parallel)
    assert local.scheduler.active == 0
    assert len(local.scheduler._free_slots) == local.settings.parallel


async def test_embeddings_come_from_the_one_e5_in_the_engine(conn, services):
    e5 = services.models.loaded()[EMBEDDING_MODEL]
    remote = RemoteE5Backend(conn, e5.info)
    texts = ["서울은 대한민국의 수도입니다.", "부산은 항구 도시입니다."]
    got = await remote.embed(EMBEDDING_MODEL, texts, "passage")
    want = await e5.embed(EMBEDDING_MODEL, texts, "passage")
    assert np.allclose(got.vectors, want.vectors) and got.prompt_tokens == want.prompt_tokens
    # the knowledge bases' embedder talks to the raw engine object, synchronously
    q = await asyncio.to_thread(remote.engine.query, ["수도"])
    assert np.allclose(q, e5.engine.query(["수도"]))
    assert remote.engine.dim == e5.engine.dim


async def test_no_engine_means_503_at_once(tmp_path, local):
    conn = EngineConnection(f"ipc://{tmp_path / 'nobody.sock'}")
    client = EngineClient(conn, local.info)
    try:
        with pytest.raises(ApiError) as e:
            await collect(client.chat(ask()))
        assert e.value.status == 503 and e.value.code == "engine_unavailable"
        with pytest.raises(ApiError) as e:
            client.tokenize("서울", special=False)
        assert e.value.code == "engine_unavailable"
        assert not await client.healthy()
    finally:
        await conn.aclose()


async def test_logit_bias_crosses_to_the_engine_process(client, local):
    # An API worker's logit_bias hook travels as a description and bans the token in the engine process.
    plain, _ = await collect(client.chat(ask(max_tokens=2)))
    first = local.tokenize(plain, special=False, add_bos=False)[0]
    biased, _ = await collect(client.chat(ask(max_tokens=2, hooks=[logit_bias_hook({str(first): -100})])))
    assert biased and local.tokenize(biased, special=False, add_bos=False)[0] != first
    # a worker learns the vocabulary from the engine's model description (for the 400 on unknown ids)
    described = next(m for m in (await client.conn.call("hello"))["models"] if m.id == MODEL)
    assert described.vocab_size == local.scheduler.n_vocab > 1000


async def by_choice(stream) -> tuple[dict[int, str], dict[int, object]]:
    texts: dict[int, str] = {}
    finals: dict[int, object] = {}
    async for d in stream:
        texts[d.index] = texts.get(d.index, "") + d.text
        if d.finish_reason is not None:
            finals[d.index] = d
    return texts, finals


async def test_several_choices_cross_whole_with_the_request_usage(client, local):
    """n choices: each one's text and finish arrive, and the last to finish carries the request's usage
    (the per-request bookkeeping runs on the engine thread, where the deltas leave from)."""
    req = ChatRequest(model=MODEL, messages=[{"role": "user", "content": "서울의 명소 한 곳을 알려 주세요."}],
                      sampling=SamplingParams(max_tokens=16, temperature=0.9, seed=11, n=3, repetition_penalty=1.0))
    remote_texts, remote_finals = await by_choice(client.chat(req))
    local_texts, local_finals = await by_choice(local.chat(req))
    assert sorted(remote_finals) == [0, 1, 2]
    assert remote_texts == local_texts and all(remote_texts.values())
    with_usage = [d for d in remote_finals.values() if d.usage is not None]
    assert len(with_usage) == 1  # only the request's last choice to finish
    local_usage = next(d.usage for d in local_finals.values() if d.usage is not None)
    assert with_usage[0].usage.completion_tokens == local_usage.completion_tokens
    assert with_usage[0].usage.completion_tokens > 16  # the three choices' tokens, not one choice's


async def test_a_tool_call_crosses_parsed(client, local):
    tools = [{"type": "function", "function": {"name": "get_weather", "description": "도시의 현재 날씨",
                                               "parameters": {"type": "object", "properties": {
                                                   "city": {"type": "string"}}, "required": ["city"]}}}]
    req = ChatRequest(model=MODEL, messages=[{"role": "user", "content": "부산의 날씨를 알려 주세요."}],
                      tools=tools, tool_choice="required",
                      sampling=SamplingParams(max_tokens=64, temperature=0, repetition_penalty=1.0))
    _, remote = await by_choice(client.chat(req))
    _, here = await by_choice(local.chat(req))
    assert remote[0].finish_reason == here[0].finish_reason == "tool_calls"
    assert [(c.name, c.arguments) for c in remote[0].tool_calls] == [(c.name, c.arguments) for c in here[0].tool_calls]
    assert remote[0].tool_calls[0].name == "get_weather" and "부산" in remote[0].tool_calls[0].arguments


async def wait_for(check, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        await asyncio.sleep(0.01)
    return False


async def test_tokens_come_over_the_worker_channel_not_the_engine_loop(client, conn, served, local):
    """Once a worker's channel is registered, the engine thread writes its deltas there itself."""
    _, server = served
    await collect(client.chat(ask(max_tokens=2)))  # connects, and the channel with it
    assert await wait_for(lambda: conn._ident in server._channels)
    frames = []
    inner = conn._channel._on_frame
    conn._channel._on_frame = lambda f: (frames.append(loads(f)), inner(f))
    relayed = []
    drain = server._drain
    server._drain = lambda: (relayed.append(1), drain())  # the loop's relay of deltas (ZeroMQ path)
    try:
        remote_text, remote_last = await collect(client.chat(ask()))
    finally:
        del server._drain
    local_text, _ = await collect(local.chat(ask()))
    assert remote_text == local_text and remote_last.finish_reason is not None
    deltas = [d for f in frames for _, kind, batch in f if kind == "d" for d in batch]
    assert len(deltas) >= 2 and not relayed
    assert await wait_for(lambda: not server._runs)  # the loop heard the run end


async def test_a_worker_whose_channel_closes_frees_its_slots(served, local):
    """A worker killed mid-stream: its channel closes, and the engine cancels its generations at once."""
    endpoint, server = served
    loop = asyncio.get_running_loop()
    ident = b"w-test-vanishing"
    frames = []
    reader = ChannelReader(channel_path(endpoint), ident, loop, frames.append, lambda: None)
    assert await wait_for(lambda: ident in server._channels)
    ctx = zmq.Context()
    sock = ctx.socket(zmq.DEALER)
    sock.setsockopt(zmq.ROUTING_ID, ident)
    sock.connect(endpoint)
    try:
        sock.send(dumps((CHAT, 1, (ask("한국의 역사를 길게 설명해 주세요.", 400), []))))
        assert await wait_for(lambda: frames, 60)  # generating: the first deltas came over the channel
        reader.close()  # the worker dies; its ZeroMQ socket stays open and says nothing
        await wait_idle(local.scheduler, local.settings.parallel)
        assert local.scheduler.active == 0
        assert len(local.scheduler._free_slots) == local.settings.parallel
        assert ident not in server._channels
    finally:
        sock.close(linger=0)
        ctx.term()
