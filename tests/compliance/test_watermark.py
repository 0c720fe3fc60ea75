"""The green-list watermark: deterministic checks on a toy model, a few real generations marked `engine`."""

import hashlib
import math

import numpy as np
import pytest

from jaju.compliance.watermark import (
    GreenList,
    WatermarkDetector,
    WatermarkHook,
    binomial_tail,
    score_tokens,
    watermark_key,
)

KEY = hashlib.sha256(b"test key").digest()
HUMAN = [
    "대한민국은 민주공화국이다. 대한민국의 주권은 국민에게 있고, 모든 권력은 국민으로부터 나온다.",
    "모든 국민은 인간으로서의 존엄과 가치를 가지며, 행복을 추구할 권리를 가진다.",
    "국가는 개인이 가지는 불가침의 기본적 인권을 확인하고 이를 보장할 의무를 진다.",
    ("초등학교 저학년의 경우에도 부모의 따뜻한 사랑과 보살핌이 필요한 나이이나, 현재 공무원이 자녀를 양육하기 위하여 "
     "육아휴직을 할 수 있는 자녀의 나이는 만 6세 이하로 되어 있다."),
]


def utf8_ids(text: str) -> list[int]:
    """A stand-in tokenizer for tests without a model: one id per UTF-8 byte."""
    return list(text.encode("utf-8"))


@pytest.mark.parametrize("gamma", [0.25, 0.3])  # 0.25 skips the last mixing step (a multiple of 2**33); 0.3 does not
def test_mask_and_membership_agree(gamma):
    green = GreenList(KEY, gamma)
    mask = green.mask(4242, 50_000)
    assert abs(mask.mean() - gamma) < 0.01
    for tok in range(0, 50_000, 499):
        assert bool(mask[tok]) == green.is_green(4242, tok)
    assert not np.array_equal(mask, green.mask(4243, 50_000))
    assert not np.array_equal(mask, GreenList(hashlib.sha256(b"other").digest(), 0.25).mask(4242, 50_000))


def test_hook_adds_delta_to_green_logits_only():
    green = GreenList(KEY, 0.5)
    logits = np.zeros(1000, dtype=np.float32)
    WatermarkHook(green, 2.5)([7, 8, 9], logits)
    mask = green.mask(9, 1000)
    assert np.all(logits[mask] == 2.5) and np.all(logits[~mask] == 0.0)
    untouched = np.zeros(10, dtype=np.float32)
    WatermarkHook(green)([], untouched)
    assert not untouched.any()


def _reference(green: GreenList, prev: int, logits: np.ndarray, delta: float) -> np.ndarray:
    """The hook's promise written out token by token: delta added exactly where is_green says."""
    out = logits.copy()
    for tok in range(len(out)):
        if green.is_green(prev, tok):
            out[tok] += np.float32(delta)
    return out


def test_cached_and_fresh_bias_give_the_same_logits():
    green = GreenList(KEY, 0.25)
    hook = WatermarkHook(green, 3.0, cache_size=2)
    rng = np.random.default_rng(3)
    # 9 and 11 fill the cache, 9 again is a hit, 13 evicts 11, 11 is hashed again; a second vocabulary
    # size with the same previous token must not reuse the first one's vector.
    for prev, vocab in ((9, 3000), (11, 3000), (9, 3000), (13, 3000), (11, 3000), (9, 2000)):
        logits = rng.normal(0.0, 4.0, vocab).astype(np.float32)
        expected = _reference(green, prev, logits, 3.0)
        hook([1, 2, prev], logits)
        assert np.array_equal(logits, expected), (prev, vocab)
    assert len(hook._cache) == 2


def test_hook_is_safe_on_several_engine_threads():
    import threading

    green = GreenList(KEY, 0.25)
    hook = WatermarkHook(green, 2.0, cache_size=4)
    # A real vocabulary's size, so numpy releases the GIL inside each step and the threads interleave.
    base = np.random.default_rng(5).normal(0.0, 3.0, 151_936).astype(np.float32)
    expected = {prev: np.where(green.mask(prev, len(base)), base + np.float32(2.0), base) for prev in range(12)}
    wrong: list[int] = []

    def run(offset: int) -> None:
        for i in range(30):
            prev = (i + offset) % 12
            logits = base.copy()
            hook([prev], logits)
            if not np.array_equal(logits, expected[prev]):
                wrong.append(prev)

    threads = [threading.Thread(target=run, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not wrong


def test_binomial_tail_matches_the_exact_sum():
    for k, n, p in ((0, 10, 0.25), (3, 10, 0.25), (10, 10, 0.25), (40, 100, 0.25), (11, 10, 0.5)):
        exact = sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k, n + 1))
        assert binomial_tail(k, n, p) == pytest.approx(exact, rel=1e-9, abs=1e-300)


def _sample(rng: np.random.Generator, vocab: int, steps: int, hook) -> list[int]:
    """A toy language model: random logits with roughly natural-text entropy, sampled at temperature 1."""
    ids = [int(rng.integers(vocab))]
    for _ in range(steps):
        logits = rng.normal(0.0, 2.5, vocab).astype(np.float32)
        if hook is not None:
            hook(ids, logits)
        p = np.exp(logits - logits.max())
        ids.append(int(rng.choice(vocab, p=p / p.sum())))
    return ids


def test_detection_beats_chance_widely_on_a_toy_model():
    green = GreenList(KEY, 0.25)
    hook = WatermarkHook(green, 2.0)
    rng = np.random.default_rng(7)
    marked = [score_tokens(green, _sample(rng, 2000, 100, hook)) for _ in range(30)]
    plain = [score_tokens(green, _sample(rng, 2000, 100, None)) for _ in range(30)]
    assert sum(d.detected for d in marked) >= 28
    assert sum(d.detected for d in plain) == 0
    assert min(d.z for d in marked) > max(d.z for d in plain)
    assert all(d.p_value < 1e-4 for d in marked if d.detected)


def test_human_korean_text_is_not_flagged():
    detector = WatermarkDetector(GreenList(KEY, 0.25), utf8_ids)
    for text in HUMAN:
        d = detector.detect(text)
        assert not d.detected, (text, d)
        assert d.p_value > 1e-3


def test_repetition_cannot_fake_a_watermark():
    green = GreenList(KEY, 0.25)
    pair = next((a, b) for a in range(100) for b in range(100) if green.is_green(a, b))
    d = score_tokens(green, list(pair) * 200)
    assert d.tokens_scored <= 2 and not d.detected
    assert "too short" in d.note


def test_detector_takes_text_or_ids_not_both():
    detector = WatermarkDetector(GreenList(KEY), utf8_ids)
    assert detector.detect(token_ids=[1, 2, 3]).tokens_scored == 2
    with pytest.raises(ValueError):
        detector.detect("가", [1])


def test_key_derives_from_the_deployment_key():
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from jaju.audit.keys import DeploymentKey

    private = Ed25519PrivateKey.generate()
    assert watermark_key(DeploymentKey(private)) == watermark_key(DeploymentKey(private))
    assert watermark_key(DeploymentKey(private)) != watermark_key(DeploymentKey(Ed25519PrivateKey.generate()))
    with pytest.raises(ValueError):
        GreenList(b"short")


@pytest.fixture(scope="module")
def llm(services):
    """jaju's own embedded engine on the default model (the hook runs in its sampler, as in production)."""
    return services.models.loaded()["qwen2.5-coder-0.5b-instruct"]


def _reply(llm, prompt: str, seed: int, hook) -> list[int]:
    import asyncio

    from jaju.engine.base import ChatRequest, SamplingParams

    request = ChatRequest(model=llm.info.id, messages=[{"role": "user", "content": prompt}],
                          sampling=SamplingParams(max_tokens=64, temperature=0.7, top_p=1.0, top_k=0,
                                                  repetition_penalty=1.0, seed=seed),
                          logits_hooks=[hook] if hook is not None else [])

    async def run() -> str:
        return "".join([d.text async for d in llm.chat(request)])

    return llm.tokenize(asyncio.run(run()), special=False, add_bos=False)


@pytest.mark.engine
def test_real_generations_carry_the_watermark(llm):
    green = GreenList(KEY, 0.25)
    hook = WatermarkHook(green, 3.0)
    prompts = ["한글의 역사에 대해 세 문장으로 설명해 주세요.", "제주도 여행의 장점을 알려 주세요.",
               "분리수거를 잘하는 방법을 세 가지 알려 주세요."]
    marked = [score_tokens(green, _reply(llm, p, 11 + i, hook)) for i, p in enumerate(prompts)]
    plain = score_tokens(green, _reply(llm, prompts[0], 11, None))
    assert all(d.tokens_scored >= 30 for d in marked)
    assert sum(d.z for d in marked) / len(marked) >= 3.0, marked
    assert plain.z < 3.0 and not plain.detected, plain


def test_short_all_green_text_is_judged_by_the_exact_tail():
    green = GreenList(KEY, 0.25)
    ids = [0]
    while len(ids) < 7:  # six green steps in a row
        ids.append(next(t for t in range(1000) if t not in ids and green.is_green(ids[-1], t)))
    d = score_tokens(green, ids)
    assert d.green == d.tokens_scored == 6
    assert d.z > 4.0  # the normal approximation would call it
    assert d.p_value == pytest.approx(0.25**6)
    assert not d.detected and "too short" in d.note
