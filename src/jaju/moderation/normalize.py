"""Undo the ways people disguise Korean words, keeping every character's offset in the original text.

A `View` is a rewritten text whose characters each remember the span of the original they came from,
so a match found in a rewritten view still points at the right words. The rewrites, in order:

- NFKC (full-width ｓｉ -> si, circled ㉦ -> ㅅ), zero-width characters dropped, conjoining jamo
  (U+1100..) turned into compatibility jamo (ㄱ), compound jamo split (ㅄ -> ㅂㅅ);
- digits and symbols wedged between Hangul dropped (시1발, 시@발, 씨~발);
- short romanised syllables glued to Hangul read as Hangul (si발, c발);
- optionally, single letters separated by spaces joined (시 발 놈, ㅅ ㅣ ㅂ ㅏ ㄹ);
- loose jamo composed into syllables (ㅅㅣㅂㅏㄹ -> 시발) with Hangul arithmetic;
- drawn-out syllables folded back (씨이이이발 -> 씨발, 병시이인 -> 병신);
- optionally, latin runs typed with the Korean 2-set layout switched off read as Hangul (tlqkf -> 시발).

`skeleton_of()` then flattens a view into jamo with tense consonants and vowel pairs that sound alike
folded, so 씨발/시빨/씌발, 죽여/쥭여 and 개새끼/개색기/개색히 meet on one form.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

SBASE, SCOUNT, NV, NT = 0xAC00, 11172, 21, 28
CHO = "ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ"
JUNG = "ㅏㅐㅑㅒㅓㅔㅕㅖㅗㅘㅙㅚㅛㅜㅝㅞㅟㅠㅡㅢㅣ"
JONG = ("", "ㄱ", "ㄲ", "ㄳ", "ㄴ", "ㄵ", "ㄶ", "ㄷ", "ㄹ", "ㄺ", "ㄻ", "ㄼ", "ㄽ", "ㄾ", "ㄿ", "ㅀ", "ㅁ", "ㅂ", "ㅄ",
        "ㅅ", "ㅆ", "ㅇ", "ㅈ", "ㅊ", "ㅋ", "ㅌ", "ㅍ", "ㅎ")
VOWEL_PAIRS = {("ㅗ", "ㅏ"): "ㅘ", ("ㅗ", "ㅐ"): "ㅙ", ("ㅗ", "ㅣ"): "ㅚ", ("ㅜ", "ㅓ"): "ㅝ", ("ㅜ", "ㅔ"): "ㅞ",
               ("ㅜ", "ㅣ"): "ㅟ", ("ㅡ", "ㅣ"): "ㅢ"}
FINAL_PAIRS = {("ㄱ", "ㅅ"): "ㄳ", ("ㄴ", "ㅈ"): "ㄵ", ("ㄴ", "ㅎ"): "ㄶ", ("ㄹ", "ㄱ"): "ㄺ", ("ㄹ", "ㅁ"): "ㄻ",
               ("ㄹ", "ㅂ"): "ㄼ", ("ㄹ", "ㅅ"): "ㄽ", ("ㄹ", "ㅌ"): "ㄾ", ("ㄹ", "ㅍ"): "ㄿ", ("ㄹ", "ㅎ"): "ㅀ",
               ("ㅂ", "ㅅ"): "ㅄ"}
SPLIT_JAMO = {v: a + b for (a, b), v in {**VOWEL_PAIRS, **FINAL_PAIRS}.items()}
# Only compound consonants are split when they stand alone (ㅄ -> ㅂㅅ); a lone ㅘ stays.
SPLIT_LOOSE = {k: v for k, v in SPLIT_JAMO.items() if k in JONG}

# The Korean 2-set (두벌식) layout: the latin key under each jamo; shift gives the tense consonants.
KEYS = dict(zip("qwertyuiopasdfghjklzxcvbnm", "ㅂㅈㄷㄱㅅㅛㅕㅑㅐㅔㅁㄴㅇㄹㅎㅗㅓㅏㅣㅋㅌㅊㅍㅠㅜㅡ", strict=True))
KEYS.update(zip("QWERTOP", "ㅃㅉㄸㄲㅆㅒㅖ", strict=True))
# Romanised syllables that stand in for the first syllable of a swear word (si발, c발, ssi발).
ROMAN = {"si": "시", "shi": "시", "ssi": "씨", "c": "씨", "cc": "씨", "ss": "씨"}

ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e"))
# Tense and aspirated-after-ㅎ consonants fold to plain ones; vowels that sound alike fold together.
FOLD_CONSONANT = {"ㄲ": "ㄱ", "ㄸ": "ㄷ", "ㅃ": "ㅂ", "ㅆ": "ㅅ", "ㅉ": "ㅈ"}
FOLD_VOWEL = {"ㅐ": "ㅔ", "ㅒ": "ㅖ", "ㅙ": "ㅞ", "ㅚ": "ㅞ", "ㅢ": "ㅣ", "ㅟ": "ㅣ", "ㅠ": "ㅜ"}

Unit = tuple[str, int, int]  # character, start and end in the original text


def is_syllable(ch: str) -> bool:
    return SBASE <= ord(ch) < SBASE + SCOUNT


def is_jamo(ch: str) -> bool:
    return "\u3131" <= ch <= "\u318e"


def is_consonant(ch: str) -> bool:
    return ch in CHO or ch in SPLIT_LOOSE


def is_vowel(ch: str) -> bool:
    return ch in JUNG


def is_hangul(ch: str) -> bool:
    return is_syllable(ch) or is_jamo(ch)


def decompose(ch: str) -> tuple[str, str, str]:
    """(initial, vowel, final) of a syllable; final is "" when there is none."""
    i = ord(ch) - SBASE
    return CHO[i // (NV * NT)], JUNG[i % (NV * NT) // NT], JONG[i % NT]


def compose(initial: str, vowel: str, final: str = "") -> str:
    return chr(SBASE + (CHO.index(initial) * NV + JUNG.index(vowel)) * NT + JONG.index(final))


@dataclass(frozen=True, slots=True)
class View:
    """A rewritten text; `units[i]` says which original span produced character i."""

    text: str
    units: tuple[Unit, ...]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span of view characters [start, end)."""
        return self.units[start][1], self.units[end - 1][2]


def _conjoining(ch: str) -> str:
    """Conjoining jamo (from NFKC of ㉦ or decomposed text) as compatibility jamo."""
    o = ord(ch)
    if 0x1100 <= o <= 0x1112:
        return CHO[o - 0x1100]
    if 0x1161 <= o <= 0x1175:
        return JUNG[o - 0x1161]
    if 0x11A8 <= o <= 0x11C2:
        return JONG[o - 0x11A7]
    return ch


def _clean(text: str) -> list[Unit]:
    units: list[Unit] = []
    for i, ch in enumerate(text):
        if ord(ch) in ZERO_WIDTH:
            continue
        # Compatibility jamo stay as they are (NFKC would turn ㅄ into a conjoining ᄡ).
        for c in ch if is_jamo(ch) else unicodedata.normalize("NFKC", ch):
            c = _conjoining(c)
            for part in SPLIT_LOOSE.get(c, c):
                units.append((part, i, i + 1))
    return units


def _drop_noise(units: list[Unit]) -> list[Unit]:
    """Digits and symbols between two Hangul characters are padding (시1발, ㅅ!ㅂ), not content."""
    out: list[Unit] = []
    i = 0
    while i < len(units):
        j = i
        while j < len(units) and _noise(units[j][0]):
            j += 1
        if j > i and out and is_hangul(out[-1][0]) and j < len(units) and is_hangul(units[j][0]) and j - i <= 3:
            i = j
            continue
        out.extend(units[i:j] if j > i else units[i:i + 1])
        i = j if j > i else i + 1
    return out


def _noise(ch: str) -> bool:
    cat = unicodedata.category(ch)
    return cat[0] in "NPS" and ch not in "'\"‘’“”「」『』"


def _romanised(units: list[Unit]) -> list[Unit]:
    """si발 -> 시발: a short latin run glued to a following syllable, read from a small table."""
    out: list[Unit] = []
    i = 0
    while i < len(units):
        j = i
        while j < len(units) and units[j][0].isascii() and units[j][0].isalpha():
            j += 1
        run = "".join(u[0] for u in units[i:j]).lower()
        before_ok = i == 0 or not (units[i - 1][0].isascii() and units[i - 1][0].isalpha())
        if j > i and before_ok and run in ROMAN and j < len(units) and is_syllable(units[j][0]):
            out.append((ROMAN[run], units[i][1], units[j - 1][2]))
            i = j
            continue
        out.extend(units[i:j] if j > i else units[i:i + 1])
        i = j if j > i else i + 1
    return out


def _join_singles(units: list[Unit]) -> list[Unit]:
    """Drop spaces between one-character tokens: 시 발 놈 -> 시발놈, ㅆ ㅣ ㅂ -> ㅆㅣㅂ; 수박씨 발라 stays."""
    text = "".join(u[0] for u in units)
    tokens = [(m.start(), m.end()) for m in re.finditer(r"\S+", text)]
    drop: set[int] = set()
    for (s1, e1), (s2, e2) in zip(tokens, tokens[1:], strict=False):
        if e1 - s1 == 1 and e2 - s2 == 1 and is_hangul(text[s1]) and is_hangul(text[s2]):
            drop.update(range(e1, s2))
    return [u for k, u in enumerate(units) if k not in drop]


def compose_jamo(units: list[Unit]) -> list[Unit]:
    """Compose loose compatibility jamo into syllables the way a 2-set input method would."""
    out: list[Unit] = []
    i, n = 0, len(units)
    ch = [u[0] for u in units]
    while i < n:
        if ch[i] in CHO and i + 1 < n and is_vowel(ch[i + 1]):
            start, lead, vowel = i, ch[i], ch[i + 1]
            i += 2
            if i < n and (vowel, ch[i]) in VOWEL_PAIRS:
                vowel = VOWEL_PAIRS[(vowel, ch[i])]
                i += 1
            final = ""
            if i < n and ch[i] in JONG and not (i + 1 < n and is_vowel(ch[i + 1])):
                final = ch[i]
                i += 1
                if i < n and (final, ch[i]) in FINAL_PAIRS and not (i + 1 < n and is_vowel(ch[i + 1])):
                    final = FINAL_PAIRS[(final, ch[i])]
                    i += 1
            out.append((compose(lead, vowel, final), units[start][1], units[i - 1][2]))
        else:
            out.append(units[i])
            i += 1
    return out


def _fold_elongation(units: list[Unit]) -> list[Unit]:
    """씨이이발 -> 씨발, 씨바아알 -> 씨발: a silent-ㅇ syllable repeating the vowel before it is a drawl."""
    out: list[Unit] = []
    for u in units:
        if out and is_syllable(u[0]) and is_syllable(out[-1][0]):
            lead, vowel, final = decompose(u[0])
            plead, pvowel, pfinal = decompose(out[-1][0])
            if lead == "ㅇ" and vowel == pvowel and not pfinal:
                out[-1] = (compose(plead, pvowel, final), out[-1][1], u[2])
                continue
        out.append(u)
    return out


def _keyboard(units: list[Unit]) -> list[Unit] | None:
    """tlqkf -> 시발: latin runs of 3+ letters that compose entirely into syllables on the 2-set layout."""
    out: list[Unit] = []
    changed = False
    i = 0
    while i < len(units):
        j = i
        while j < len(units) and units[j][0].isascii() and units[j][0].isalpha():
            j += 1
        if j - i >= 3:
            jamo = [(KEYS.get(u[0]) or KEYS[u[0].lower()], u[1], u[2]) for u in units[i:j]]
            composed = compose_jamo(jamo)
            if all(is_syllable(c) for c, _, _ in composed):
                out.extend(composed)
                changed = True
                i = j
                continue
        out.extend(units[i:j] if j > i else units[i:i + 1])
        i = j if j > i else i + 1
    return out if changed else None


def _finish(units: list[Unit]) -> View:
    units = _fold_elongation(compose_jamo(units))
    return View("".join(u[0] for u in units), tuple(units))


def views(text: str) -> list[View]:
    """The rewritten views of a text worth matching against: plain, singles joined, keyboard-decoded."""
    base = _romanised(_drop_noise(_clean(text)))
    out = [_finish(base)]
    joined = _join_singles(base)
    if len(joined) != len(base):
        out.append(_finish(joined))
    keyed = _keyboard(base)
    if keyed is not None:
        out.append(_finish(keyed))
    return out


# --------------------------------------------------------------------------- skeletons
@dataclass(frozen=True, slots=True)
class Skeleton:
    """Folded jamo of a view without spaces; per character its view index and syllable edges."""

    key: str
    index: tuple[int, ...]        # view character each skeleton character came from
    starts: frozenset[int]        # skeleton positions where a syllable (or other unit) begins
    ends: frozenset[int]          # positions where one ends (a shared consonant is both)
    opens: dict[int, int]         # syllable start -> its own view index (a shared consonant points back)

    def view_start(self, start: int) -> int:
        """The view index where a match starting at skeleton position `start` begins."""
        return self.opens.get(start, self.index[start])

    def aligned(self, start: int, end: int) -> bool:
        """A match [start, end) covers whole syllables, the last one possibly without its final."""
        return start in self.starts and (end - 1 in self.ends or self.key[end - 1] in JUNG)


def skeleton_of(view: View) -> Skeleton:
    """Fold a view: tense consonants to plain, look-alike vowels together, 색기 = 새끼, spaces dropped.

    Standalone consonant jamo (초성 abbreviations such as ㅅㅂ) keep a trailing "*" so an
    abbreviation never matches the consonants inside whole syllables. Matches start on a syllable
    edge and end on one or on a vowel (a stem: 죽여버리 in 죽여버릴), so 좆 is not found in 조|직.
    """
    chars: list[str] = []
    index: list[int] = []
    starts: set[int] = set()
    ends: set[int] = set()
    opens: dict[int, int] = {}

    def emit(c: str, k: int, shared: bool = False) -> int:
        # A final and the next initial that are the same consonant sound as one (색기 = 새끼).
        if shared and chars and c == chars[-1] and c in CHO:
            return len(chars) - 1
        chars.append(c)
        index.append(k)
        return len(chars) - 1

    for k, ch in enumerate(view.text):
        if is_syllable(ch):
            lead, vowel, final = decompose(ch)
            lead = FOLD_CONSONANT.get(lead, lead)
            if lead == "ㅎ" and chars and chars[-1] in CHO:
                first = len(chars) - 1  # 색히 = 색기: ㅎ after a consonant only aspirates it
            else:
                first = emit(lead, k, shared=True)
            last = emit(FOLD_VOWEL.get(vowel, vowel), k)
            for f in SPLIT_JAMO.get(final, final):
                last = emit(FOLD_CONSONANT.get(f, f), k)
            starts.add(first)
            opens[first] = k
            ends.add(last)
        elif ch.isspace():
            continue
        elif is_jamo(ch) and not is_vowel(ch):
            starts.add(len(chars))
            chars.extend((FOLD_CONSONANT.get(ch, ch), "*"))
            index.extend((k, k))
            ends.add(len(chars) - 1)
        else:
            starts.add(len(chars))
            ends.add(len(chars))
            chars.append(ch.lower())
            index.append(k)
    return Skeleton("".join(chars), tuple(index), frozenset(starts), frozenset(ends), opens)


def skeleton(text: str) -> str:
    """The folded key of a term as written in a lexicon."""
    units = compose_jamo(_clean(text))
    return skeleton_of(View("".join(u[0] for u in units), tuple(units))).key
