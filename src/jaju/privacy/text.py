"""Normalised text with a map back to the original offsets (NFKC, dashes, Arabic-Indic digits)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Dashes people type inside numbers (hyphen, non-breaking hyphen, en/em dash, minus) all mean '-'.
_DASHES = {ord(c): "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe63\uff0d"}
# Arabic-Indic and extended Arabic-Indic digits, so Saudi IDs written in Arabic script match.
_DIGITS = {0x0660 + i: str(i) for i in range(10)} | {0x06F0 + i: str(i) for i in range(10)}
_TABLE = _DASHES | _DIGITS
# str.translate looks up every character in the table (about 7 µs for a 60-character sentence, a tenth
# of an analysis); most text holds none of these, which one regex scan tells far more cheaply.
_NEEDS_TABLE = re.compile("[" + "".join(chr(c) for c in _TABLE) + "]")


@dataclass(frozen=True, slots=True)
class NormalizedText:
    """`text` is what recognizers see; `span()` maps its offsets back to the original string."""

    original: str
    text: str
    # starts[i] is the original offset of normalised char i; starts[len(text)] == len(original).
    starts: tuple[int, ...] | None

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Original (start, end) for a normalised span."""
        if self.starts is None or end <= start:
            return start, end
        # Each original char becomes one or more normalised chars, all mapped to its own offset.
        return self.starts[start], self.starts[end - 1] + 1


class _PerCharacterNfkc(dict):
    """A `str.translate` table that maps each character to NFKC of its `_TABLE` form, worked out the first time
    the character is seen and kept. Korean legal and administrative text is full of characters that NFKC
    changes (①, ․, ｢｣, ㆍ): a 600-character slice of a bill took about 110 µs to normalise one character at a
    time in Python, and about 50 µs with this table (docs/benchmarks.md, round 4)."""

    MAX = 65536  # distinct characters kept; past that, each new one is worked out on every use

    def __init__(self) -> None:
        super().__init__()
        # Characters whose form is longer than one character: only a text holding one needs an offset map.
        self.expanding: set[str] = set()

    def __missing__(self, code: int) -> str:
        ch = chr(code)
        form = unicodedata.normalize("NFKC", _TABLE.get(code, ch)) if code >= 0x80 else ch
        if len(form) != 1:
            self.expanding.add(ch)
        if len(self) < self.MAX:
            self[code] = form
        return form


_NFKC = _PerCharacterNfkc()


def normalize(original: str) -> NormalizedText:
    """NFKC per character (full-width ０１０ -> 010), unify dashes, map Arabic-Indic digits."""
    translated = original.translate(_TABLE) if _NEEDS_TABLE.search(original) else original
    if translated.isascii() or unicodedata.is_normalized("NFKC", translated):
        # Translation is one char to one char, so offsets are unchanged.
        return NormalizedText(original, translated, None)
    text = original.translate(_NFKC)
    if _NFKC.expanding.isdisjoint(original):
        return NormalizedText(original, text, None)  # every character became exactly one
    starts: list[int] = []
    for i, ch in enumerate(original):
        starts.extend([i] * len(_NFKC[ord(ch)]))
    starts.append(len(original))
    return NormalizedText(original, text, tuple(starts))
