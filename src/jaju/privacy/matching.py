"""Finding a session's tokens in model output in the forms a model actually writes them.

A small model asked to repeat "[PERSON_1]" writes PERSON_1, person_1, [PERSON 1], 【PERSON_1】,
PERSON-1님이 or [PERSON_1]은; asked to repeat a surrogate phone number it may drop the dashes. The
matcher accepts all of these for the tokens the session knows (and only those), and puts the right
particle after the restored value (홍길동이, 김영희가) when the model attached one to the token.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from jaju.privacy.surrogates import has_final

OPEN = "[【［〔{｛"
CLOSE = "]】］〕}｝"
# Longest text a token can occupy (【 KR_DRIVER_LICENSE_123 】, a spaced surrogate RRN); the
# streaming restorer looks this far back for a token still arriving.
MAX_TOKEN = 48
_PAIRS = {"이": "가", "가": "이", "은": "는", "는": "은", "을": "를", "를": "을", "과": "와", "와": "과"}
_CLOSED_FORM = {"이": "이", "가": "이", "은": "은", "는": "은", "을": "을", "를": "을", "과": "과", "와": "과"}
_PARTICLE = r"(?:(?P<p>[이가은는을를과와])(?![가-힣]))?"
_SEPARATOR = r"[_\- ]?"
_DIGITS_ONLY = frozenset({"KR_PHONE", "KR_RRN", "KR_FRN"})
PLACEHOLDER_SHAPE = re.compile(r"\[([A-Z][A-Z_]*)_(\d+)\]")


def _name_pattern(entity: str) -> str:
    """KR_PHONE -> KR[_- ]?PHONE, any case."""
    return "(?i:" + _SEPARATOR.join(re.escape(p) for p in entity.split("_")) + ")"


def _surrogate_pattern(entity: str, token: str) -> str:
    if entity in _DIGITS_ONLY:
        digits = [c for c in token if c.isdigit()]
        return r"(?<!\d)" + r"[-. ]?".join(digits) + r"(?!\d)"
    if entity == "PERSON" and re.fullmatch(r"[가-힣]{2,4}", token):
        return " ?".join(token)  # 김 민준, 황은 영: models put spaces inside names
    if entity == "PERSON":
        return re.escape(token).replace(r"\ ", r"\s+")
    if entity == "EMAIL":
        return "(?i:" + re.escape(token) + ")"
    return r"(?<![\w.])" + re.escape(token) + r"(?![\w])"


def fix_particle(value: str, particle: str) -> str:
    """The particle form that fits after `value` (이/가, 은/는, 을/를, 과/와); unchanged after non-Hangul."""
    if not particle or not value or not "가" <= value[-1] <= "힣":
        return particle
    closed = _CLOSED_FORM[particle]
    return closed if has_final(value[-1]) else _PAIRS[closed]


class TokenMatcher:
    """One regex over every placeholder and surrogate a session knows."""

    def __init__(self, tokens: dict[str, str], entities: dict[str, str]):
        self._values: dict[str, str] = {}  # canonical key -> original value
        self._surrogate_values: list[tuple[re.Pattern[str], str]] = []
        alternatives: list[str] = []
        placeholder_entities: set[str] = set()
        for token, value in tokens.items():
            m = PLACEHOLDER_SHAPE.fullmatch(token)
            if m is not None:
                placeholder_entities.add(m.group(1))
                self._values[f"{m.group(1).replace('_', '')}#{int(m.group(2))}"] = value
        if placeholder_entities:
            names = "|".join(_name_pattern(e) for e in sorted(placeholder_entities, key=len, reverse=True))
            alternatives.append(rf"(?P<open>[{re.escape(OPEN)}][ \t]*)?(?<![A-Za-z0-9])(?P<name>{names})"
                                rf"{_SEPARATOR}(?P<num>\d+)(?!\d)(?:[ \t]*[{re.escape(CLOSE)}])?")
        self._surrogates: dict[str, str] = {}
        for i, (token, value) in enumerate(sorted(((t, v) for t, v in tokens.items()
                                                   if PLACEHOLDER_SHAPE.fullmatch(t) is None),
                                                  key=lambda tv: len(tv[0]), reverse=True)):
            group = f"s{i}"
            self._surrogates[group] = value
            alternatives.append(f"(?P<{group}>{_surrogate_pattern(entities.get(token, ''), token)})")
        self._rx = re.compile("(?:" + "|".join(alternatives) + ")" + _PARTICLE) if alternatives else None
        self._surrogate_prefixes = {t[:i] for t in tokens if PLACEHOLDER_SHAPE.fullmatch(t) is None
                                    for i in range(1, len(t))}
        self._surrogate_digits = [("".join(c for c in t if c.isdigit()))
                                  for t in tokens if entities.get(t) in _DIGITS_ONLY]
        self._names = {e.replace("_", "").upper() for e in placeholder_entities}

    def _value(self, m: re.Match[str]) -> str | None:
        if "name" in m.re.groupindex and m.group("name") is not None:
            key = re.sub(r"[_\- ]", "", m.group("name")).upper() + "#" + str(int(m.group("num")))
            return self._values.get(key)
        for group, value in self._surrogates.items():
            if m.group(group) is not None:
                return value
        return None

    def finditer(self, text: str) -> Iterable[tuple[re.Match[str], str]]:
        """(match, original value) for every known token in text; unknown placeholders are skipped."""
        if self._rx is None:
            return
        for m in self._rx.finditer(text):
            value = self._value(m)
            if value is not None:
                yield m, value

    def sub(self, text: str, escape=None) -> str:
        """Text with every known token replaced by its value (passed through `escape` if given)."""
        if self._rx is None:
            return text
        out: list[str] = []
        pos = 0
        for m, value in self.finditer(text):
            out.append(text[pos:m.start()])
            out.append(escape(value) if escape else value)
            out.append(fix_particle(value, m.group("p") or ""))
            pos = m.end()
        out.append(text[pos:])
        return "".join(out)

    def could_begin(self, tail: str) -> bool:
        """Whether `tail` may be the start of a token whose rest has not arrived yet."""
        if tail in self._surrogate_prefixes:
            return True
        if tail[0].isdigit() and self._surrogate_digits:
            d = "".join(c for c in tail if c.isdigit())
            if re.fullmatch(r"[\d. -]*", tail) and any(s.startswith(d) for s in self._surrogate_digits):
                return True
        if not self._names:
            return False
        t = tail
        if t[0] in OPEN:
            t = t[1:].lstrip(" \t")
            if not t:
                return True
        if not ("A" <= t[0].upper() <= "Z"):
            return False
        letters = re.match(r"[A-Za-z_\- ]*", t).group()
        rest = t[len(letters):]
        key = re.sub(r"[_\- ]", "", letters).upper()
        if not rest:
            return any(n.startswith(key) for n in self._names)
        return key in self._names and re.fullmatch(r"\d+[ \t]*", rest) is not None
