"""Clauses read from Kiwi's morphemes: a predicate, the noun before it, and the mood of its endings.

The lexicon lists phrasings (찔러 버릴 거야); a clause reads the grammar, so 찌르 + 어 버리 + ㄹ 거 and
패 + 어 주 + ㄹ게 are one idea, "I will hurt (you)", however the words are spelled out. A clause is a
predicate stem (a verb or adjective; a noun + 하다 becomes one stem: 자살하, 테러하) with the endings and
auxiliary verbs after it. Its moods:

- want: 고 싶다;  unwant: 고 싶지 않다, 기 싫다 (살기 싫다)
- will: ㄹ 거다, ㄹ게, ㄹ래, 려고, 기로 하다 (also `decided`), ㄹ 생각, ㄹ 테니, 자 (let's), 어야 하다/되다
  (also `must`);  shall: 겠, kept apart because 배고파 죽겠다 is an idiom
- wish: 었으면 좋겠다;  ask: ㄹ까, ㄹ 수 있어? (also `can`);  howto: 는 법, 는 방법, 는 곳, 는지
- question: 냐, 니, or a question mark after the clause (맞고 싶냐?)
- guess: ㄹ 것 같다 (굶어 죽을 것 같아)
- now: ㄴ다/는다 said outright;  past: 었 (찌른 뒤 달아났다, 잡아 죽였다)
- finish: the auxiliary 버리다 (찔러 버릴);  give: 주다/드리다 (패 줄게, 위조해 드립니다)

and three facts that usually undo it: `negated` (안/못 before, 지 않다/말다 after), `reported`
(다는 말, 다고 했다: someone else's words) and `modifies`, the noun the clause describes (죽이는
게임, 찌른 뒤, 죽을 맛), which makes it a description rather than a statement of intent.
"""

from __future__ import annotations

from dataclasses import dataclass

from jaju.korean.analyzer import Morpheme

NOUN_TAGS = ("NNG", "NNP", "NP")
# Nouns after -ㄹ/-는 that keep the clause a statement of intent or a how-to question.
WILL_NOUNS = frozenset({"거", "것", "터", "생각", "계획", "작정", "예정", "각오", "셈"})
HOWTO_NOUNS = frozenset({"법", "방법", "곳", "데", "경로", "루트", "요령"})
# Quoting endings: the clause is someone's words, unless it is one's own thought (죽고 싶다는 생각).
QUOTING = frozenset({"다는", "다고", "라는", "라고", "냐고", "냐는", "자고", "자는", "다며", "단", "대"})
OWN_THOUGHT = frozenset({"생각", "마음", "충동", "느낌", "기분"})
WILL_ENDINGS = frozenset({"ᆯ게", "을게", "ᆯ래", "을래", "마", "자", "ᆯ란다", "을란다", "련다", "으련다"})
ASK_ENDINGS = frozenset({"ᆯ까", "을까", "ᆯ까요", "을까요"})
NOW_ENDINGS = frozenset({"ᆫ다", "는다", "ᆫ다고"})
QUESTION_ENDINGS = frozenset({"냐", "니", "나", "느냐", "으냐", "ᆫ가", "는가", "ᆯ까", "을까"})
INTENT_CONNECTIVES = frozenset({"려고", "으려고", "려", "으려", "러", "으러"})
PAST = frozenset({"었", "았", "였", "었었", "았었"})


@dataclass(frozen=True, slots=True)
class Clause:
    """One predicate with its endings; offsets are into the analysed text."""

    lemma: str                  # 죽이, 찌르, 자살하, 위조하
    obj: str | None             # the nearest noun before it in the same phrase (목, 불, 손목), if any
    start: int
    end: int
    moods: frozenset[str]
    negated: bool
    reported: bool
    modifies: str | None        # the noun the clause describes (게임, 뒤, 맛), if any

    @property
    def stated(self) -> bool:
        """Said as one's own statement: not negated, not someone else's words, not describing a noun."""
        return not (self.negated or self.reported or self.modifies)


def clauses(morphemes: list[Morpheme]) -> list[Clause]:
    """Every clause of an analysed text, in order."""
    out: list[Clause] = []
    n = len(morphemes)
    for i, m in enumerate(morphemes):
        if not _head(morphemes, i):
            continue
        start, lemma = m.start, m.form
        noun_at = i - 1
        if m.tag in ("XSV", "XSA") and i > 0 and morphemes[i - 1].tag in NOUN_TAGS:
            start, lemma = morphemes[i - 1].start, morphemes[i - 1].form + m.form
            noun_at = i - 2
        j, moods, negated, reported, modifies = _tail(morphemes, i + 1)
        before = morphemes[i - 1] if i > 0 else None
        if before is not None and before.tag == "MAG" and before.form in ("안", "못"):
            negated = True
        end = morphemes[j - 1].end if j > i + 1 else m.end
        if j < n and morphemes[j].tag == "SF" and morphemes[j].form == "?":
            moods = moods | {"question", "ask"} if "can" in moods else moods | {"question"}
        out.append(Clause(lemma, _object(morphemes, noun_at), start, end, frozenset(moods), negated, reported,
                          modifies))
    return out


def _head(ms: list[Morpheme], i: int) -> bool:
    tag = ms[i].tag
    if tag.startswith(("VV", "VA", "XSV", "XSA")):
        # 하 after -기로/-려고/-어야 and 되 after -어야 belong to the clause before them.
        return not (i > 0 and ms[i - 1].form in ("로", "려고", "으려고", "어야", "아야", "야") and ms[i].form in ("하", "되"))
    # Kiwi tags some main verbs as auxiliaries (위조지폐 만드는 법: 만들/VX); one that follows no ending leads.
    return tag == "VX" and (i == 0 or not ms[i - 1].tag.startswith(("E", "J")))


def _object(ms: list[Morpheme], k: int) -> str | None:
    """The noun just before a predicate (목을 매, 불 지르, 얼굴에 주먹 꽂), skipping particles and adverbs."""
    while k >= 0 and (ms[k].tag.startswith("J") or ms[k].tag in ("MAG", "XSN")):
        k -= 1
    return ms[k].form if k >= 0 and ms[k].tag in NOUN_TAGS else None


def _tail(ms: list[Morpheme], j: int) -> tuple[int, set[str], bool, bool, str | None]:
    """Walk the endings and auxiliaries after a stem: (end index, moods, negated, reported, modified noun)."""
    n = len(ms)
    moods: set[str] = set()
    negated = reported = False
    modifies: str | None = None

    def form(k: int) -> str:
        return ms[k].form if k < n else ""

    while j < n:
        m = ms[j]
        tag = m.tag
        if tag == "VX":
            if m.form == "싶":
                moods.add("want")
            elif m.form == "버리":
                moods.add("finish")
            elif m.form in ("주", "드리"):
                moods.add("give")
            elif m.form in ("않", "말", "못하"):
                if "want" in moods:
                    moods.discard("want")
                    moods.add("unwant")
                else:
                    negated = True
            j += 1
        elif tag == "EP":
            if m.form in PAST and "decided" not in moods:
                moods.add("past")
            elif m.form == "겠":
                moods.add("shall")  # 죽여 버리겠다, but also 피곤해 죽겠다: each rule decides
            j += 1
        elif tag == "EF":
            if m.form in QUOTING:
                reported = True
            elif m.form in WILL_ENDINGS:
                moods.add("will")
            elif m.form in ASK_ENDINGS:
                moods.add("ask")
            elif m.form in NOW_ENDINGS and "past" not in moods:
                moods.add("now")
            if m.form in QUESTION_ENDINGS:
                moods.add("question")
            return j + 1, moods, negated, reported, modifies
        elif tag == "EC":
            if m.form in QUOTING:
                reported = True
            if m.form in INTENT_CONNECTIVES:
                moods.add("will")
                if form(j + 1) == "하":
                    j += 1  # -려고 하다
            elif m.form in ("어야", "아야", "야") and form(j + 1) in ("하", "되"):
                moods.update(("will", "must"))
                j += 1
            elif m.form in ("으면", "면") and "past" in moods and form(j + 1) == "좋":
                moods.discard("past")
                moods.add("wish")  # -었으면 좋겠다
                j += 1
            elif m.form in ("는지", "ᆫ지", "ᆯ지", "을지", "은지"):
                moods.add("howto")
            elif m.form in NOW_ENDINGS and "past" not in moods:
                moods.add("now")
            j += 1
            k = j + 1 if j < n and ms[j].tag == "JX" else j  # 죽이진 않을게
            if k < n and ms[k].tag == "VX":
                j = k
                continue
            if not (j < n and ms[j].tag.startswith(("EP", "EF", "VCP")) or form(j - 1) in ("하", "되", "좋")):
                break
        elif tag == "ETN" and m.form == "기" and form(j + 1) == "로" and j + 2 < n and (
                ms[j + 2].tag.startswith("VV") or ms[j + 2].tag == "NNG" and form(j + 3) == "하"):
            moods.update(("will", "decided"))  # -기로 했다, -기로 결심했다: a decision, however long ago
            j += 3 if ms[j + 2].tag.startswith("VV") else 4
        elif tag == "ETN" and m.form == "기" and form(j + 1) == "싫":
            moods.add("unwant")  # 살기 싫다
            j += 2
        elif tag == "ETM":
            if m.form in QUOTING:
                reported = True
            nxt = ms[j + 1] if j + 1 < n else None
            if nxt is None or not nxt.tag.startswith("N"):
                return j + 1, moods, negated, reported, modifies
            if nxt.form in WILL_NOUNS and m.form in ("ᆯ", "을"):
                if form(j + 2) == "같":
                    moods.add("guess")  # 죽을 것 같다: a guess, not a plan
                    j += 3
                else:
                    moods.add("will")
                    j += 2
            elif nxt.form == "수" and m.form in ("ᆯ", "을"):
                moods.add("can")
                j += 2
            elif nxt.form in HOWTO_NOUNS:
                moods.add("howto")
                return j + 2, moods, negated, reported, modifies
            else:
                if reported and nxt.form in OWN_THOUGHT:
                    reported = False
                else:
                    modifies = nxt.form
                return j + 1, moods, negated, reported, modifies
        elif tag in ("VCP", "SF") or (tag.startswith("VA") and m.form in ("있", "없", "같", "좋")):
            j += 1
        else:
            break
    return j, moods, negated, reported, modifies
