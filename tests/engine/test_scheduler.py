"""The embedded engine under concurrency: all served, cancellation frees the slot, slow readers don't stall."""

from __future__ import annotations

import asyncio

import pytest

from jaju.engine.base import ChatRequest, SamplingParams

pytestmark = [pytest.mark.engine, pytest.mark.anyio]
MODEL = "qwen2.5-coder-0.5b-instruct"


@pytest.fixture
def engine(services):
    return services.models.loaded()[MODEL]


def request(text: str, max_tokens: int, seed: int = 0) -> ChatRequest:
    return ChatRequest(model=MODEL, messages=[{"role": "user", "content": text}],
                       sampling=SamplingParams(max_tokens=max_tokens, temperature=0.8, seed=seed))


async def drain(engine, req, delay: float = 0.0) -> int:
    n = 0
    async for d in engine.chat(req):
        if delay:
            await asyncio.sleep(delay)
        if d.usage:
            n = d.usage.completion_tokens
    return n


async def test_many_clients_are_all_served(engine):
    counts = await asyncio.gather(*[drain(engine, request(f"{i}부터 10까지 세어 주세요.", 12, i)) for i in range(6)])
    assert all(0 < c <= 12 for c in counts)
    assert engine.scheduler.active == 0 and engine.scheduler.queue_depth == 0


async def test_disconnect_frees_the_engine_at_once(engine):
    stream = engine.chat(request("한국의 역사를 길게 설명해 주세요.", 400))
    got = 0
    async for _ in stream:
        got += 1
        if got == 3:
            break
    await stream.aclose()
    for _ in range(50):  # the engine thread drops it before its next decode step
        if engine.scheduler.active == 0:
            break
        await asyncio.sleep(0.02)
    assert engine.scheduler.active == 0
    assert len(engine.scheduler._free_slots) == engine.settings.parallel


async def test_slow_reader_does_not_stall_others(engine):
    fast_done = asyncio.Event()

    async def slow_reader() -> int:
        n = 0
        async for _ in engine.chat(request("서울에 대해 설명해 주세요.", 30)):
            n += 1
            if n == 1:
                await fast_done.wait()  # stop reading until the other stream has finished
        return n

    slow = asyncio.create_task(slow_reader())
    await asyncio.sleep(0)
    fast = await drain(engine, request("부산에 대해 설명해 주세요.", 8, 1))
    assert fast > 0 and not slow.done()
    fast_done.set()
    assert await slow > 1


async def test_repeated_prefix_is_reused(engine, monkeypatch):
    monkeypatch.setattr(engine.scheduler, "prompt_cache", True)
    engine.scheduler.clear_cache()
    history = [{"role": "user", "content": "한국의 사계절에 대해 한 문장씩 설명해 주세요."}]

    async def answer(messages) -> str:
        req = ChatRequest(model=MODEL, messages=messages, sampling=SamplingParams(max_tokens=16, temperature=0),
                          cache_scope="ten_a")
        return "".join([d.text async for d in engine.chat(req)])

    assert await answer(history)
    before = engine.scheduler.prompt_tokens_reused
    again = await answer(history)
    assert again  # (not necessarily identical: see EngineSettings.prompt_cache)
    assert engine.scheduler.prompt_tokens_reused - before > 20
    follow_up = history + [{"role": "assistant", "content": again}, {"role": "user", "content": "겨울만 더 자세히."}]
    before = engine.scheduler.prompt_tokens_reused
    assert await answer(follow_up)
    assert engine.scheduler.prompt_tokens_reused > before  # the next turn reads only what is new


async def test_the_prompt_cache_is_never_shared_between_tenants(engine, monkeypatch):
    """A reused prefix answers sooner, so a tenant reusing another's cache could time what the other sent."""
    monkeypatch.setattr(engine.scheduler, "prompt_cache", True)
    engine.scheduler.clear_cache()
    secret = [{"role": "system", "content": "다음은 내부 감사 보고서입니다. 2026년 3분기 손실은 41억 원이며 공시 전입니다."},
              {"role": "user", "content": "요약해 주세요."}]

    async def reused(scope: str) -> int:
        req = ChatRequest(model=MODEL, messages=secret, sampling=SamplingParams(max_tokens=4, temperature=0),
                          cache_scope=scope)
        before = engine.scheduler.prompt_tokens_reused
        assert "".join([d.text async for d in engine.chat(req)])
        return engine.scheduler.prompt_tokens_reused - before

    assert await reused("ten_a") == 0
    assert await reused("ten_b") == 0  # the same prompt from another tenant reads it afresh
    assert await reused("") == 0  # and a request with no scope never reuses anything
    assert await reused("ten_a") > 20  # while the tenant itself still gets its prefix back


async def test_a_failing_hook_fails_its_request_not_the_engine(engine):
    def broken(tokens, logits):
        raise RuntimeError("hook bug")

    bad = request("안녕하세요", 8)
    bad.logits_hooks.append(broken)
    from jaju.errors import ApiError
    with pytest.raises(ApiError) as e:
        async for _ in engine.chat(bad):
            pass
    assert e.value.status == 503
    assert await drain(engine, request("안녕하세요", 4)) > 0  # the engine still serves
