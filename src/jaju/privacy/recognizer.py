"""The recognizer shape (Presidio's): entity, patterns with base scores, context words, validate()."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import ClassVar, Protocol, runtime_checkable

from jaju.privacy.text import NormalizedText

# Score added when a context word sits near a match (Presidio's default enhancement).
CONTEXT_BOOST = 0.35
# Score removed when a word that marks a non-personal number sits near it (주문번호, order no.).
NEGATIVE_PENALTY = 0.4
CONTEXT_BEFORE = 40
CONTEXT_AFTER = 15


@dataclass(frozen=True, slots=True)
class Pattern:
    """One regular expression and the confidence a bare match deserves."""

    name: str
    regex: str
    score: float


@dataclass(slots=True)
class RecognizerResult:
    """A detected entity: type, span (original text offsets once the analyzer returns it), score."""

    entity_type: str
    start: int
    end: int
    score: float
    recognizer: str = ""

    def to_dict(self) -> dict:
        return {"entity_type": self.entity_type, "start": self.start, "end": self.end,
                "score": round(self.score, 4), "recognizer": self.recognizer}


@dataclass(slots=True)
class Scan:
    """What every recognizer reads for one analysis: normalised text, lower-cased copy, cheap flags."""

    norm: NormalizedText
    lower: str
    digit_count: int  # characters that `\d` matches
    has_hangul: bool
    has_at: bool
    has_alpha: bool
    # What the recognizers that ran earlier in this analysis found (normalised offsets, scores at or over
    # the threshold); a later recognizer may skip work inside spans these already settle.
    claimed: list[RecognizerResult] = field(default_factory=list)

    @property
    def has_digit(self) -> bool:
        return self.digit_count > 0

    @classmethod
    def of(cls, norm: NormalizedText) -> Scan:
        t = norm.text
        count = len(_DIGIT.findall(t)) if _DIGIT.search(t) is not None else 0
        return cls(norm, t.lower(), count, _HANGUL.search(t) is not None, "@" in t, _ALPHA.search(t) is not None)


_DIGIT = re.compile(r"\d")
_HANGUL = re.compile(r"[가-힣]")
_ALPHA = re.compile(r"[A-Za-z]")


@runtime_checkable
class Recognizer(Protocol):
    """Anything that finds entities; spans it returns are offsets into `scan.norm.text`."""

    name: str
    entity: str

    def analyze(self, scan: Scan) -> list[RecognizerResult]: ...


def words_regex(words: tuple[str, ...]) -> re.Pattern[str] | None:
    """One alternation over lower-cased words, longest first."""
    if not words:
        return None
    return re.compile("|".join(re.escape(w.lower()) for w in sorted(set(words), key=len, reverse=True)))


class PatternRecognizer:
    """Shared machinery for regex recognizers; subclasses set class attributes and may override validate()."""

    entity: ClassVar[str]
    patterns: ClassVar[tuple[Pattern, ...]]
    context: ClassVar[tuple[str, ...]] = ()
    negative_context: ClassVar[tuple[str, ...]] = ()
    # Bank accounts and the like are just digits without a context word nearby.
    context_required: ClassVar[bool] = False
    # Score a match whose validate() returned True gets at least.
    valid_score: ClassVar[float] = 0.9
    # Fewest `\d` characters any match of any pattern holds (or that score() accepts): a text with fewer
    # digits is skipped without running a regex. 0 for recognizers that match without digits.
    min_digits: ClassVar[int] = 1

    def __init__(self) -> None:
        self.name = type(self).__name__
        # Compiled once per recognizer object; the analyzer is built once per process.
        self._compiled = [(p, re.compile(p.regex)) for p in self.patterns]
        self._context = words_regex(self.context)
        self._negative = words_regex(self.negative_context)

    def validate(self, value: str) -> bool | None:
        """True: checksum holds (raise score); False: not this entity (drop); None: cannot tell."""
        return None

    def score(self, value: str, base: float) -> float | None:
        """Score of a match given its pattern's base score, or None to drop it."""
        ok = self.validate(value)
        if ok is False:
            return None
        return max(base, self.valid_score) if ok else base

    def span_of(self, match: re.Match[str]) -> tuple[int, int]:
        """The part of a match that is the entity (group 'v' when the pattern names one)."""
        if "v" in match.re.groupindex:
            return match.span("v")
        return match.span()

    def analyze(self, scan: Scan) -> list[RecognizerResult]:
        if scan.digit_count < self.min_digits:
            return []
        text = scan.norm.text
        out: list[RecognizerResult] = []
        for pattern, rx in self._compiled:
            for m in rx.finditer(text):
                start, end = self.span_of(m)
                score = self.score(text[start:end], pattern.score)
                if score is None:
                    continue
                score = self.with_context(scan, start, end, score)
                if score > 0:
                    out.append(RecognizerResult(self.entity, start, end, score, self.name))
        return out

    def with_context(self, scan: Scan, start: int, end: int, score: float) -> float:
        """Raise the score when a context word is near, lower it near a negative word."""
        lo, hi = max(0, start - CONTEXT_BEFORE), min(len(scan.lower), end + CONTEXT_AFTER)
        has_context = self._context is not None and (
            self._context.search(scan.lower, lo, start) is not None
            or self._context.search(scan.lower, end, hi) is not None)
        if self.context_required and not has_context:
            return 0.0
        if has_context:
            score = min(1.0, score + CONTEXT_BOOST)
        if self._negative is not None and self._negative.search(scan.lower, lo, start) is not None:
            score -= NEGATIVE_PENALTY
        return score


def digits(value: str) -> str:
    """Only the ASCII digits of a value (separators, spaces and line breaks dropped)."""
    return _NOT_ASCII_DIGIT.sub("", value)


_NOT_ASCII_DIGIT = re.compile(r"[^0-9]")


# A separator inside a number: dash or dot (spaces around, maybe a line break), a line break, or spaces.
SEP = r"(?:[ \t]{0,2}[-.][ \t]{0,2}(?:\r?\n[ \t]*)?|[ \t]{0,2}\r?\n[ \t]*|[ \t]{1,2})?"
# Not glued to more digits on either side (a value inside a longer number is not that value).
# Every pattern that starts with NUM_START goes on with a digit or "(": the lookahead says so first, so
# the regex engine drops the other positions after one cheap test instead of two lookbehinds.
NUM_START = r"(?=[\d(])(?<!\d)(?<!\d[-.])"
NUM_END = r"(?!\d|[-.]\d)"
