"""Index terms for BM25: Kiwi content morphemes plus joined compound nouns, or plain whitespace words."""

from __future__ import annotations

import re
from typing import Protocol

from jaju.korean.analyzer import CONTENT_TAGS, KoreanAnalyzer, Morpheme

_NOUNS = frozenset({"NNG", "NNP"})
_WORD = re.compile(r"\w+")


class TermExtractor(Protocol):
    """Turns text into the terms BM25 counts; documents and queries use the same extractor."""

    name: str

    def terms(self, text: str) -> list[str]: ...

    def terms_many(self, texts: list[str]) -> list[list[str]]: ...


def morpheme_terms(morphemes: list[Morpheme]) -> list[str]:
    """Content morphemes, and each run of touching nouns joined (국민+투표 -> 국민투표) as one more term."""
    out: list[str] = []
    run: list[Morpheme] = []
    for m in morphemes + [Morpheme("", "", -1, 0)]:
        if m.tag in CONTENT_TAGS:
            out.append(m.form.lower())
        if m.tag in _NOUNS and (not run or run[-1].end == m.start):
            run.append(m)
            continue
        if len(run) > 1:
            out.append("".join(r.form for r in run).lower())
        run = [m] if m.tag in _NOUNS else []
    return out


class KiwiTerms:
    """Korean-aware terms: particles and endings gone, so 대통령의/대통령은/대통령 all match."""

    name = "kiwi"

    def __init__(self, analyzer: KoreanAnalyzer):
        self._analyzer = analyzer

    def terms(self, text: str) -> list[str]:
        return morpheme_terms(self._analyzer.morphemes(text))

    def terms_many(self, texts: list[str]) -> list[list[str]]:
        # One call per text: KoreanAnalyzer.morphemes_many needs a Kiwi built with worker threads,
        # and the shared analyzer is built single-threaded (num_workers=0).
        return [self.terms(t) for t in texts]


class WhitespaceTerms:
    """The baseline every Korean search beats: words split on whitespace and punctuation."""

    name = "whitespace"

    def terms(self, text: str) -> list[str]:
        return _WORD.findall(text.lower())

    def terms_many(self, texts: list[str]) -> list[list[str]]:
        return [self.terms(t) for t in texts]
