"""Surrogates: format-valid but fake values a small model handles like real text (김민준, 010-0xxx-xxxx).

A placeholder such as [PERSON_1] is safe but odd: small models drop its brackets, inflect it or
translate it. A surrogate is a plausible value of the same kind, chosen so that it is never a real
value of the conversation, and mapped back to the original on the way out (vault-backed, like
placeholders). Choices, so a surrogate cannot be mistaken for (or hit) a real person or line:

- Names: a common surname + a common given name from the lists below, with the same number of
  syllables as the original and the same final-consonant (받침) status on the last syllable, so the
  particles the model attaches (이/가, 은/는, 을/를) stay right when the original comes back.
  Romanised names get a romanised surrogate.
- Mobile and landline numbers keep the original's layout and area code; the exchange group starts
  with 0 (010-0xxx-xxxx, 02-0xx-xxxx). The numbering plan issues no subscriber exchange that starts
  with 0 (a leading 0 dials a prefix), so these numbers reach nobody.
- 주민등록번호 / 외국인등록번호: a real calendar date, the original's gender-and-century digit class,
  region digits 96-99 (the pre-2020 region codes stop well below 96) and a valid check digit, so the
  value passes every format check yet matches no issued number's region code.
- E-mail: a local part at example.com (RFC 2606 reserves it); IP: 192.0.2.0/24 (RFC 5737 TEST-NET-1).

Entities without a generator (addresses, accounts, cards...) fall back to placeholders.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Collection

SURNAMES = "김이박최정강조윤장임한오서신권황안송류전홍고문양손배백허남심노하"


def has_final(syllable: str) -> bool:
    """Whether a Hangul syllable ends in a consonant (받침); False for anything else."""
    return "가" <= syllable <= "힣" and (ord(syllable) - 0xAC00) % 28 != 0


# Common given names, split by whether the last syllable has a final consonant (받침).
GIVEN_OPEN = ("민서", "서희", "지우", "하나", "수아", "지아", "서아", "채아", "유나", "다예", "예서", "시우", "도하",
              "지호", "예나", "현서", "주아", "소희", "가희", "미소", "지수", "혜리", "동희", "재우", "승우", "정우",
              "태호", "현수", "영호", "진주", "보라", "세희", "나래", "준서", "건우", "우주")
GIVEN_CLOSED = ("민준", "서준", "도윤", "예준", "하준", "주원", "지훈", "준혁", "현준", "건영", "서윤", "지민", "하윤",
                "채원", "수빈", "지원", "예린", "서진", "유진", "민성", "태윤", "승현", "은영", "지환", "성민", "다인",
                "소윤", "가온", "한결", "동건", "재형", "미정", "현정", "은정", "상훈", "영진")
ONE_OPEN = ("수", "호", "우", "주", "희", "미", "나", "하", "서", "도")
ONE_CLOSED = ("준", "민", "현", "진", "영", "윤", "훈", "성", "원", "석")
ROMAN_FIRST = ("Alex", "Jordan", "Morgan", "Taylor", "Casey", "Riley", "Jamie", "Robin", "Avery", "Quinn")
ROMAN_LAST = ("Lane", "Reed", "Hale", "Ford", "Blake", "Grant", "Wells", "Shaw", "Brooks", "Hayes")

_HANGUL = re.compile(r"[가-힣]")


def _pick(seq: tuple[str, ...] | str, seed: int) -> str:
    return seq[seed % len(seq)]


def person(value: str, seed: int) -> str:
    """A name like the original in script, length and final consonant, but from the lists."""
    v = value.strip()
    if not _HANGUL.search(v):
        return f"{_pick(ROMAN_FIRST, seed)} {_pick(ROMAN_LAST, seed // 7)}"
    syllables = [c for c in v if "가" <= c <= "힣"]
    closed = has_final(syllables[-1])
    if len(syllables) <= 2 and not _looks_full(syllables):
        # A given name alone (민수야, 동희): answer with a given name alone.
        if len(syllables) == 1:
            return _pick(ONE_CLOSED if closed else ONE_OPEN, seed)
        return _pick(GIVEN_CLOSED if closed else GIVEN_OPEN, seed)
    given = _pick(GIVEN_CLOSED if closed else GIVEN_OPEN, seed // 31)
    if len(syllables) == 2:
        given = _pick(ONE_CLOSED if closed else ONE_OPEN, seed // 31)
    return _pick(SURNAMES, seed) + given


def _looks_full(syllables: list[str]) -> bool:
    # Two syllables starting with a common surname (김구, 이건) are a full name; other pairs a given name.
    return len(syllables) == 2 and syllables[0] in SURNAMES


def _digits_like(value: str, digits: str) -> str:
    """`digits` poured into the original's layout (separators kept where they were)."""
    it = iter(digits)
    return "".join(next(it) if c.isdigit() else c for c in value)


def phone(value: str, seed: int) -> str:
    """Same layout and area code; the exchange group starts with 0, which no subscriber number does."""
    d = "".join(c for c in value if c.isdigit())
    if d.startswith("82"):
        d = "0" + d[2:]
    area = 2 if d.startswith("02") else 3
    if len(d) < area + 5:
        return _digits_like(value, "".join(str((seed >> i) % 10) for i in range(len(d))))
    rest = len(d) - area
    tail = f"{seed % 10 ** (rest - 1):0{rest - 1}d}"
    new = d[:area] + "0" + tail
    digits_in_value = sum(c.isdigit() for c in value)
    if digits_in_value != len(new):  # +82 10-...: keep it simple, write the domestic form
        return f"{new[:area]}-{new[area:area + rest - 4]}-{new[-4:]}"
    return _digits_like(value, new)


_RRN_WEIGHTS = (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5)


def rrn_check(first12: str) -> str:
    s = sum(int(c) * w for c, w in zip(first12, _RRN_WEIGHTS, strict=True))
    return str((11 - s % 11) % 10)


def rrn(value: str, seed: int) -> str:
    """A checksum-valid number: real date, the original's digit class, region digits 96-99."""
    d = "".join(c for c in value if c.isdigit())
    g = d[6] if len(d) >= 7 else "1"
    if g in "3478":
        day = datetime.date(2001, 1, 1) + datetime.timedelta(days=seed % 7000)
    else:
        day = datetime.date(1960, 1, 1) + datetime.timedelta(days=seed % 10000)
    first = day.strftime("%y%m%d") + g + str(96 + seed % 4) + f"{(seed // 5) % 1000:03d}"
    new = first + rrn_check(first)
    if sum(c.isdigit() for c in value) != 13:
        return f"{new[:6]}-{new[6:]}"
    return _digits_like(value, new)


def email(value: str, seed: int) -> str:
    return f"user{seed % 100000:05d}@example.com"


def ip_address(value: str, seed: int) -> str:
    return f"192.0.2.{1 + seed % 254}"


GENERATORS: dict[str, Callable[[str, int], str]] = {
    "PERSON": person, "KR_PHONE": phone, "KR_RRN": rrn, "KR_FRN": rrn, "EMAIL": email, "IP_ADDRESS": ip_address,
}


def surrogate_for(entity: str, value: str, digest: str, avoid: Collection[str]) -> str | None:
    """A fake value for `value`, never one in `avoid` (real values, surrogates already given); None if no generator."""
    gen = GENERATORS.get(entity)
    if gen is None:
        return None
    base = int(digest[:15], 16)
    folded = {a.casefold() for a in avoid}
    for attempt in range(64):
        candidate = gen(value, base + attempt * 7919)
        if candidate.casefold() not in folded and candidate != value and not _clashes(candidate, folded):
            return candidate
    return None


def _clashes(candidate: str, folded: set[str]) -> bool:
    # 김민준 must not sit inside a real value either (김민준호), nor a real value inside it.
    c = candidate.casefold()
    return any(c in a or (len(a) >= 2 and a in c) for a in folded)
