"""Context that turns a lexicon hit innocent: Kiwi's reading of the words, and reported speech.

Two questions, answered separately:

- `innocent(...)`: is the hit really that word? 시발점 and 시발역 are nouns of their own (始發), 수박씨
  발라 crosses a word boundary, 보지 못했다 is a verb. Kiwi's morphemes of the rewritten view decide,
  with the lexicon's `except_next` / `except_prev` words for compounds Kiwi splits.
- `reported(...)`: is the word quoted or reported rather than used? ("그가 나에게 '씨발'이라고 했다고
  신고합니다"). Such a hit is a mention: the result lists it under `jaju.quoted`, does not flag it,
  and a policy can at most flag, never block, because of it (docs/moderation.md).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from jaju.korean.analyzer import Morpheme
from jaju.moderation.lexicon import Term

NOUNS = frozenset({"NNG", "NNP", "NNB", "NR", "NP", "XR"})
PREDICATES = ("VV", "VA", "VX", "VCP", "VCN")
FUNCTION = ("J", "E", "X", "S")  # particles, endings, affixes, punctuation
# A longer noun that merely *contains* a swear word is innocent (시발점), unless what it adds is
# itself abusive (씨발놈, 개새끼들, 병신새끼).
INSULT_PREFIXES = ("개", "씹", "좆", "쌍", "상", "니", "느", "미친", "존나", "졸라", "썅")
INSULT_SUFFIXES = ("놈", "년", "새끼", "년아", "놈아", "아", "야", "들", "같", "충", "짓", "이", "이야")

_QUOTES = {"'": "'", '"': '"', "‘": "’", "“": "”", "「": "」", "『": "』", "«": "»", "<": ">"}
# After a quoted word: a particle or a quoting ending means it is talked about, not said to someone.
_AFTER_QUOTE = re.compile(r"\s*(?:이?라고|이?라는|이?라며|이?란|은|는|을|를|이|가|와|과|의|도|만|같은|처럼|하고|등)")
# Unquoted reported speech: "미친년이라고 했어요", "ㅅㅂ이라는 말을 배워 왔어요".
_REPORTED = re.compile(r"^\S{0,2}?(?:이?라고|이?라는|이?라며|이?란|하고)\s*(?:\S*\s*)?"
                       r"(?:했|하|말|욕|불렀|부르|소리|쳤|치|신고|문자|채팅|써|쓰|적|표현|단어|뜻|협박|댓글|글)")
# The word as an object of typing or searching: "시발을 친 것이다", "ㅅㅂ를 검색했다".
_TYPED = re.compile(r"^\S?(?:을|를)\s*(?:친|쳤|치|쳐|쓴|썼|쓰|써|적|입력|검색|타이핑)")
_COPULA = re.compile(r"\s*(?:이야|야|이다|이냐|이네|이구나|이지|임|이에요|예요)")


class Reading:
    """Kiwi's morphemes of one view, with start offsets for lookups."""

    def __init__(self, text: str, morphemes: list[Morpheme]):
        self.text = text
        self.morphemes = morphemes
        self._starts = [m.start for m in morphemes]

    def at(self, pos: int) -> Morpheme | None:
        """The morpheme covering view offset `pos`; of a contraction (지|ㄴ다 in 진다), the stem."""
        covering = self._covering(pos)
        return next((m for m in covering if not m.tag.startswith(FUNCTION)), covering[0] if covering else None)

    def function_only(self, pos: int) -> bool:
        """Every morpheme covering `pos` is a particle or an ending (패|어 share an offset: not only 어)."""
        covering = self._covering(pos)
        return bool(covering) and all(m.tag.startswith(("J", "E")) for m in covering)

    def _covering(self, pos: int) -> list[Morpheme]:
        # Kiwi gives contracted morphemes the same offset (패+어 = 패, 지+ㄴ다 = 진), latest first here.
        i = bisect_right(self._starts, pos) - 1
        out = []
        while i >= 0:
            m = self.morphemes[i]
            if m.start <= pos < max(m.end, m.start + 1):
                out.append(m)
            elif m.end <= pos and not out:
                break
            elif out and m.end <= pos:
                break
            i -= 1
        return out

    def before(self, pos: int) -> Morpheme | None:
        """The last content morpheme ending at or before `pos` (particles and endings skipped)."""
        i = bisect_right(self._starts, pos - 1) - 1
        while i >= 0:
            m = self.morphemes[i]
            if m.end <= pos and not m.tag.startswith(FUNCTION):
                return m
            i -= 1
        return None

    def after(self, pos: int) -> Morpheme | None:
        i = bisect_right(self._starts, pos - 1)
        return self.morphemes[i] if i < len(self.morphemes) else None


def innocent(term: Term, reading: Reading, start: int, end: int) -> bool:
    """True when the words around view span [start, end) show the hit is not the listed term."""
    text = reading.text
    if term.word_start and start > 0 and not _boundary(text[start - 1]):
        return True
    first, last = reading.at(start), reading.at(end - 1)
    if term.noun and first is not None and first.tag.startswith(PREDICATES):
        return True  # 보지 못했다, 자지 않고, 떨려서, 가진다 (not 찐따)
    if term.noun and last is not None and last.tag.startswith("J") and last.start > start:
        return True  # 당한 자|의 가족: the hit ends on a particle, so it is not the noun 자위
    if term.noun and first is not None and first is last and first.tag == "NNG" and first.form != term.term \
            and first.start == start and first.end == end:
        return True  # 자의로 (自意): Kiwi knows a different noun spelled alike, not a disguised 자위
    if term.verb and first is not None and first.tag in NOUNS:
        return True  # 고려하여: the noun 고려, not 꼴려
    if any(c.isspace() for c in text[start:end]) and reading.function_only(start):
        return True  # a word spelled across a space must not start on a particle: 때문|에 잠 is not 애자
    word_start = start
    while word_start > 0 and not text[word_start - 1].isspace():
        word_start -= 1
    word_end = end
    while word_end < len(text) and not text[word_end].isspace():
        word_end += 1
    before_in_word, after_in_word = text[word_start:start], text[end:word_end]
    prev = reading.before(start)
    if term.except_prev and ((prev is not None and prev.form in term.except_prev)
                             or any(before_in_word.endswith(w) for w in term.except_prev if before_in_word)):
        return True
    nxt = reading.after(end)
    if term.except_next and ((nxt is not None and nxt.form in term.except_next and nxt.start - end <= 1)
                             or any(_rest_is(after_in_word, w) for w in term.except_next)):
        return True
    # Inside a longer noun Kiwi knows (시발점, 새끼발가락, 수박씨): innocent unless the rest is abusive too.
    if first is not None and first.start < start and first.tag in NOUNS:
        if not text[first.start:start].endswith(INSULT_PREFIXES):
            return True
    if last is not None and last.end > end and last.tag in NOUNS:
        if not text[end:last.end].startswith(INSULT_SUFFIXES):
            return True
    return False


def reported(text: str, start: int, end: int) -> bool:
    """True when original span [start, end) is quoted or reported speech rather than said outright."""
    if _quoted(text, start, end):
        return True
    rest = text[end:end + 24]
    return bool(_REPORTED.match(rest) or _TYPED.match(rest))


def _quoted(text: str, start: int, end: int) -> bool:
    # The nearest opening quote before the hit (same sentence, close by) whose closing quote follows it.
    lo = max(0, start - 30)
    for i in range(start - 1, lo - 1, -1):
        ch = text[i]
        if ch in ".!?\n":
            return False
        closer = _QUOTES.get(ch)
        if closer is None:
            continue
        j = text.find(closer, end)
        if j < 0 or j - end > 30:
            return False
        rest = text[j + 1:j + 12]
        return bool(_AFTER_QUOTE.match(rest)) and not _COPULA.match(rest)
    return False


def _rest_is(rest: str, word: str) -> bool:
    """`word` starts the rest of the word; `word$` must be all of it (병신|년 the year, not 병신|년아)."""
    return rest == word[:-1] if word.endswith("$") else rest.startswith(word)


def _boundary(ch: str) -> bool:
    return ch.isspace() or not ch.isalnum()
