"""Paragraph segmentation without generation: Kiwi sentences, e5 vectors, TextTiling-style topic shifts.

For each gap between sentences, compare the mean vector of the `window` sentences before it with the
`window` after it. A gap whose similarity dips well below the peaks on both sides (its depth score)
is a topic shift. Gaps deeper than mean - std/2 of all depths become paragraph breaks (Hearst's
TextTiling cut-off; `spread` moves it: mean - spread * std), never closer than `min_sentences` apart.
`regroup` is the optional post-processing (paragraphs merged or split to a length range) and `spans`
gives each paragraph's exact character range in the text.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from jaju.errors import InvalidRequest
from jaju.korean.analyzer import KoreanAnalyzer

Embed = Callable[[list[str]], np.ndarray]  # texts -> one L2-normalised row per text


def gap_scores(vectors: np.ndarray, window: int) -> np.ndarray:
    """Cosine similarity between the windows either side of each gap (len = sentences - 1)."""
    n = len(vectors)
    sims = np.empty(max(n - 1, 0))
    for g in range(n - 1):
        left = vectors[max(0, g + 1 - window):g + 1].mean(axis=0)
        right = vectors[g + 1:g + 1 + window].mean(axis=0)
        sims[g] = float(left @ right / (np.linalg.norm(left) * np.linalg.norm(right) + 1e-12))
    return sims


def depth_scores(sims: np.ndarray) -> np.ndarray:
    """How far each gap dips below the highest similarity reached climbing left and right from it."""
    depths = np.zeros_like(sims)
    for g, s in enumerate(sims):
        left = s
        for k in range(g - 1, -1, -1):
            if sims[k] < left:
                break
            left = sims[k]
        right = s
        for k in range(g + 1, len(sims)):
            if sims[k] < right:
                break
            right = sims[k]
        depths[g] = (left - s) + (right - s)
    return depths


def boundaries(vectors: np.ndarray, *, window: int = 2, min_sentences: int = 2,
               cutoff: float | None = None, count: int | None = None, spread: float = 0.5) -> list[int]:
    """Sentence indices after which a new paragraph starts (gap g lies between sentence g and g + 1).

    `count` asks for exactly that many breaks (the deepest gaps) instead of the depth cut-off; a larger
    `spread` lowers the cut-off (mean - spread * std of the depths), so more gaps become breaks.
    """
    if len(vectors) < 2 * min_sentences:
        return []
    depths = depth_scores(gap_scores(vectors, window))
    threshold = depths.mean() - spread * depths.std() if cutoff is None else cutoff
    chosen: list[int] = []
    for g in sorted(range(len(depths)), key=lambda k: -depths[k]):  # deepest first
        if count is not None and len(chosen) >= count:
            break
        if count is None and (depths[g] <= threshold or depths[g] <= 0):
            break
        before, after = g + 1, len(vectors) - g - 1
        if before < min_sentences or after < min_sentences:
            continue
        if all(abs(g - c) >= min_sentences for c in chosen):
            chosen.append(g)
    return sorted(chosen)


def segment(text: str, embed: Embed, analyzer: KoreanAnalyzer, *, window: int = 2, min_sentences: int = 2,
            cutoff: float | None = None, count: int | None = None) -> list[str]:
    """The text cut into paragraphs at topic shifts; sentences and the text between them kept verbatim."""
    if not text.strip():
        raise InvalidRequest("The text to segment is empty.", "empty_text", "text")
    sents = analyzer.sentences(text)
    if len(sents) < 2:
        return [text.strip()]
    vectors = np.asarray(embed([s for _, _, s in sents]), dtype=np.float64)
    cuts = boundaries(vectors, window=window, min_sentences=min_sentences, cutoff=cutoff, count=count)
    return [para for _, _, para, _ in spans(text, sents, groups(len(sents), cuts))]


Sentence = tuple[int, int, str]  # (start, end, text), as KoreanAnalyzer.sentences gives them


def groups(n: int, cuts: list[int]) -> list[list[int]]:
    """Sentence indices per paragraph, for `n` sentences and the breaks after sentences `cuts`."""
    edges = [0] + [g + 1 for g in sorted(cuts)] + [n]
    return [list(range(a, b)) for a, b in zip(edges, edges[1:]) if b > a]


def regroup(parts: list[list[int]], sents: list[Sentence], max_chars: int, min_chars: int) -> list[list[int]]:
    """Post-processing: paragraphs longer than `max_chars` split at sentence boundaries (a sentence longer
    than that stays whole), then paragraphs shorter than `min_chars` merged into the next one (the last into
    the one before) where the merge stays within `max_chars`."""
    def size(part: list[int]) -> int:
        return sents[part[-1]][1] - sents[part[0]][0]

    split: list[list[int]] = []
    for part in parts:
        current: list[int] = []
        for i in part:
            if current and size(current + [i]) > max_chars:
                split.append(current)
                current = []
            current.append(i)
        split.append(current)
    merged: list[list[int]] = []
    for part in split:
        if merged and size(merged[-1]) < min_chars and size(merged[-1] + part) <= max_chars:
            merged[-1] = merged[-1] + part
        else:
            merged.append(part)
    if len(merged) > 1 and size(merged[-1]) < min_chars and size(merged[-2] + merged[-1]) <= max_chars:
        merged[-2:] = [merged[-2] + merged[-1]]
    return merged


def spans(text: str, sents: list[Sentence], parts: list[list[int]]) -> list[tuple[int, int, str, int]]:
    """(start, end, paragraph, sentences) per paragraph: the text from one paragraph's first sentence to the
    next one's, whitespace at either end left out, so the paragraphs cut the text exactly."""
    starts = [0] + [sents[part[0]][0] for part in parts[1:]] + [len(text)]
    out = []
    for part, a, b in zip(parts, starts, starts[1:]):
        chunk = text[a:b]
        lead = len(chunk) - len(chunk.lstrip())
        body = chunk.strip()
        if body:
            out.append((a + lead, a + lead + len(body), body, len(part)))
    return out
