"""Per-model sampling defaults, resolving a request against them, and building llama.cpp's sampler chain.

A request's SamplingParams leaves a field `None` to take the model's default. Defaults come from the
catalog (the model publisher's own recommendation), else from the GGUF's `general.sampling.*` keys
(llama.cpp writes them when the source model ships a generation_config), else from GENERIC.
"""

from __future__ import annotations

import ctypes
import dataclasses
from collections.abc import Callable, Mapping

import llama_cpp
import numpy as np

from jaju.engine.base import SamplingParams
from jaju.errors import ApiError

# Fields a model may default; anything else in SamplingParams is the request's alone.
DEFAULTABLE = ("temperature", "top_p", "top_k", "min_p", "repetition_penalty", "dry_multiplier")
GENERIC: dict[str, float] = {"temperature": 1.0, "top_p": 1.0, "top_k": 0, "min_p": 0.0,
                             "repetition_penalty": 1.0, "dry_multiplier": 0.0}
# GGUF keys (llama.cpp's gguf-py `Keys.General.SAMPLING_*`) -> our field names
GGUF_KEYS = {"general.sampling.temp": "temperature", "general.sampling.top_p": "top_p",
             "general.sampling.top_k": "top_k", "general.sampling.min_p": "min_p",
             "general.sampling.penalty_repeat": "repetition_penalty"}
PENALTY_LAST_N = 64  # llama.cpp's default window for the repetition penalty
# DRY (Weidmann's "Don't Repeat Yourself"): llama.cpp's own defaults for everything but the strength.
DRY_BASE, DRY_ALLOWED_LENGTH, DRY_LAST_N = 1.75, 2, -1
DRY_BREAKERS = (b"\n", b":", b'"', b"*")
MAX_TOP_LOGPROBS = 20


def defaults_from_gguf(meta: Callable[[str], str | None]) -> dict[str, float]:
    """Sampling defaults a GGUF declares (empty when it declares none)."""
    found = {}
    for key, name in GGUF_KEYS.items():
        value = meta(key)
        if value is None:
            continue
        try:
            found[name] = int(value) if name == "top_k" else float(value)
        except ValueError:
            continue  # a malformed key is the file's problem; the generic default stands
    return found


def resolve(params: SamplingParams, defaults: Mapping[str, float]) -> SamplingParams:
    """A copy of `params` with every `None` field filled from the model's defaults, then GENERIC."""
    filled = {name: defaults.get(name, GENERIC[name]) for name in DEFAULTABLE if getattr(params, name) is None}
    out = dataclasses.replace(params, **filled) if filled else params
    _check(out)
    return out


def _check(p: SamplingParams) -> None:
    if p.n < 1:
        raise ApiError(400, "n must be at least 1.", param="n")
    if not 0 <= p.top_logprobs <= MAX_TOP_LOGPROBS:
        raise ApiError(400, f"top_logprobs must be between 0 and {MAX_TOP_LOGPROBS}.", param="top_logprobs")
    if p.top_k < 0:
        raise ApiError(400, "top_k must be 0 (off) or positive.", param="top_k")
    if not 0.0 <= p.min_p <= 1.0:
        raise ApiError(400, "min_p must be between 0 and 1.", param="min_p")
    if p.repetition_penalty <= 0:
        raise ApiError(400, "repetition_penalty must be positive (1.0 is off).", param="repetition_penalty")
    if p.dry_multiplier < 0:
        raise ApiError(400, "dry_multiplier must be 0 (off) or positive.", param="dry_multiplier")


def build_chain(p: SamplingParams, vocab, n_vocab: int, seed_offset: int = 0):
    """llama.cpp's sampler chain for resolved params, in llama.cpp's own order.

    penalties -> DRY -> top-k -> top-p -> min-p -> temperature -> seeded draw; greedy at temperature 0
    (penalties and DRY still apply, so a greedy reply does not loop).
    """
    chain = llama_cpp.llama_sampler_chain_init(llama_cpp.llama_sampler_chain_default_params())
    add = llama_cpp.llama_sampler_chain_add
    if p.repetition_penalty != 1.0 or p.frequency_penalty or p.presence_penalty:
        # This build's llama.h still takes n_vocab first (upstream dropped it later).
        add(chain, llama_cpp.llama_sampler_init_penalties(n_vocab, PENALTY_LAST_N, p.repetition_penalty,
                                                          p.frequency_penalty, p.presence_penalty))
    if p.dry_multiplier > 0:
        breakers = (ctypes.c_char_p * len(DRY_BREAKERS))(*DRY_BREAKERS)
        add(chain, llama_cpp.llama_sampler_init_dry(vocab, p.dry_multiplier, DRY_BASE, DRY_ALLOWED_LENGTH,
                                                    DRY_LAST_N, breakers, len(DRY_BREAKERS)))
    if p.temperature <= 0:
        add(chain, llama_cpp.llama_sampler_init_greedy())
        return chain
    if p.top_k > 0:
        add(chain, llama_cpp.llama_sampler_init_top_k(p.top_k))
    if p.top_p < 1.0:
        add(chain, llama_cpp.llama_sampler_init_top_p(p.top_p, 1))
    if p.min_p > 0:
        add(chain, llama_cpp.llama_sampler_init_min_p(p.min_p, 1))
    add(chain, llama_cpp.llama_sampler_init_temp(p.temperature))
    seed = p.seed + seed_offset if p.seed is not None else llama_cpp.LLAMA_DEFAULT_SEED
    add(chain, llama_cpp.llama_sampler_init_dist(seed & 0xFFFFFFFF))
    return chain


def fast_greedy(p: SamplingParams, grammar: str | None) -> bool:
    """Greedy decoding jaju does itself (an argmax), skipping the chain's pass over every vocabulary entry."""
    return p.temperature <= 0 and not grammar and p.dry_multiplier <= 0


def greedy(logits: np.ndarray, p: SamplingParams, generated: list[int], allowed: np.ndarray | None) -> int:
    """The token llama.cpp's penalties + greedy chain would pick, without building its candidate array.

    Penalties follow llama.cpp exactly (float32): over the last PENALTY_LAST_N generated tokens, a seen
    token's logit is multiplied by the repetition penalty when <= 0 and divided by it otherwise, then
    lowered by count x frequency penalty + presence penalty. Only those few entries change, and they are
    restored before returning (the caller's logits are llama.cpp's own buffer).
    """
    window = generated[-PENALTY_LAST_N:]
    saved = ids = None
    if window and (p.repetition_penalty != 1.0 or p.frequency_penalty or p.presence_penalty):
        ids, counts = np.unique(np.asarray(window, dtype=np.int64), return_counts=True)
        saved = logits[ids].copy()
        rp = np.float32(p.repetition_penalty)
        v = np.where(saved <= 0, saved * rp, saved / rp)
        v -= counts.astype(np.float32) * np.float32(p.frequency_penalty) + np.float32(p.presence_penalty)
        logits[ids] = v
    try:
        token = int(np.argmax(logits))
        if allowed is not None and not allowed[token]:
            token = int(np.argmax(np.where(allowed, logits, -np.inf)))
        return token
    finally:
        if saved is not None:
            logits[ids] = saved
