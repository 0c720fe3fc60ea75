"""The Analyzer: runs every registered recognizer once over normalised text and resolves overlaps."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from jaju.privacy.recognizer import Recognizer, RecognizerResult, Scan
from jaju.privacy.text import normalize

DEFAULT_THRESHOLD = 0.5
LANGUAGES = ("ko", "en", "ar")


class Analyzer:
    """Finds PII spans (offsets into the original text) with the recognizers it is given."""

    def __init__(self, recognizers: Sequence[Recognizer], threshold: float = DEFAULT_THRESHOLD):
        self.recognizers = list(recognizers)
        self.threshold = threshold
        self.entities = tuple(dict.fromkeys(r.entity for r in self.recognizers))

    def analyze(self, text: str, language: str = "ko", entities: Iterable[str] | None = None,
                score_threshold: float | None = None) -> list[RecognizerResult]:
        """Non-overlapping results, ordered by start; overlaps keep the highest score, then the longest."""
        # Recognizers carry Korean and English context words and read every script; language is
        # accepted for Presidio compatibility and does not narrow anything.
        del language
        if not text:
            return []
        wanted = set(entities) if entities is not None else None
        threshold = self.threshold if score_threshold is None else score_threshold
        norm = normalize(text)
        scan = Scan.of(norm)
        # Recognizers run in list order (PERSON, the costliest, last) and each sees what the ones
        # before it found.
        found: list[RecognizerResult] = scan.claimed
        for rec in self.recognizers:
            if wanted is not None and rec.entity not in wanted:
                continue
            results = rec.analyze(scan)
            if results:
                found.extend(r for r in results if r.score >= threshold and r.end > r.start)
        kept = resolve_overlaps(found)
        for r in kept:
            r.start, r.end = norm.span(r.start, r.end)
            r.score = round(min(r.score, 1.0), 4)
        return kept


def resolve_overlaps(results: list[RecognizerResult]) -> list[RecognizerResult]:
    """Greedy: highest score first, then longest, then earliest; drop anything overlapping a kept span."""
    kept: list[RecognizerResult] = []
    for r in sorted(results, key=lambda r: (-r.score, -(r.end - r.start), r.start)):
        if all(r.end <= k.start or r.start >= k.end for k in kept):
            kept.append(r)
    kept.sort(key=lambda r: r.start)
    return kept
