"""jaju's own greedy step picks exactly what llama.cpp's penalties + greedy chain picks."""

import ctypes

import llama_cpp
import numpy as np
import pytest

from jaju.engine.base import SamplingParams
from jaju.engine.sampling import PENALTY_LAST_N, greedy

N_VOCAB = 5000
TOKEN_DATA = np.dtype([("id", np.int32), ("logit", np.float32), ("p", np.float32)])


def chain_pick(logits: np.ndarray, p: SamplingParams, generated: list[int]) -> int:
    chain = llama_cpp.llama_sampler_chain_init(llama_cpp.llama_sampler_chain_default_params())
    llama_cpp.llama_sampler_chain_add(chain, llama_cpp.llama_sampler_init_penalties(
        N_VOCAB, PENALTY_LAST_N, p.repetition_penalty, p.frequency_penalty, p.presence_penalty))
    llama_cpp.llama_sampler_chain_add(chain, llama_cpp.llama_sampler_init_greedy())
    for t in generated:
        llama_cpp.llama_sampler_accept(chain, t)
    cand = np.zeros(N_VOCAB, dtype=TOKEN_DATA)
    cand["id"] = np.arange(N_VOCAB)
    cand["logit"] = logits
    arr = llama_cpp.llama_token_data_array(cand.ctypes.data_as(ctypes.POINTER(llama_cpp.llama_token_data)),
                                           N_VOCAB, -1, False)
    llama_cpp.llama_sampler_apply(chain, ctypes.byref(arr))
    llama_cpp.llama_sampler_free(chain)
    return int(cand["id"][arr.selected])


@pytest.mark.parametrize("penalty, freq, presence", [(1.0, 0.0, 0.0), (1.05, 0.0, 0.0), (1.3, 0.5, 0.2)])
def test_matches_llama_cpp_chain(penalty, freq, presence):
    rng = np.random.default_rng(0)
    p = SamplingParams(temperature=0, repetition_penalty=penalty, frequency_penalty=freq, presence_penalty=presence)
    for _ in range(200):
        logits = rng.normal(0, 3, N_VOCAB).astype(np.float32)
        top = np.argsort(-logits)[:40]
        generated = rng.choice(top, 100).tolist()  # penalised tokens are the likely ones
        before = logits.copy()
        assert greedy(logits, p, generated, None) == chain_pick(logits, p, generated)
        assert np.array_equal(logits, before)  # the engine's logits buffer is left as it was


def test_respects_the_allowed_mask():
    logits = np.arange(10, dtype=np.float32)
    allowed = np.ones(10, dtype=bool)
    allowed[9] = False
    assert greedy(logits, SamplingParams(temperature=0, repetition_penalty=1.0), [], allowed) == 8
