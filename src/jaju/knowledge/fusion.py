"""Reciprocal rank fusion and top-k selection over score arrays."""

from __future__ import annotations

import numpy as np

RRF_K = 60  # Cormack et al. 2009; damps the head of each list so agreement between lists wins


def top_k(scores: np.ndarray, k: int, mask: np.ndarray | None = None,
          min_score: float | None = None) -> list[tuple[int, float]]:
    """The k best (slot, score) pairs, best first, among slots in `mask` scoring above `min_score`."""
    valid = np.ones(len(scores), dtype=bool) if mask is None else mask.copy()
    if min_score is not None:
        valid &= scores > min_score
    candidates = np.flatnonzero(valid)
    if len(candidates) == 0 or k <= 0:
        return []
    if len(candidates) > k:
        part = np.argpartition(-scores[candidates], k - 1)[:k]
        candidates = candidates[part]
    order = candidates[np.argsort(-scores[candidates], kind="stable")]
    return [(int(i), float(scores[i])) for i in order]


def rrf(rankings: list[list[int]], k: int = RRF_K, weights: list[float] | None = None) -> list[tuple[int, float]]:
    """Fuse ranked lists of slots: score = sum of weight / (k + rank), rank starting at 1."""
    weights = weights or [1.0] * len(rankings)
    fused: dict[int, float] = {}
    for ranking, w in zip(rankings, weights, strict=True):
        for rank, slot in enumerate(ranking, start=1):
            fused[slot] = fused.get(slot, 0.0) + w / (k + rank)
    return sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))
