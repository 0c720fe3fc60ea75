"""Speech level (존댓말): detect each sentence's level from Kiwi's final ending, instruct, and rewrite slips.

Levels are read from the sentence's last final ending (Kiwi tag EF):
formal 하십시오체 (-습니다, -습니까, -십시오), polite 해요체 (anything ending in -요, and -죠),
casual 해체 (-어, -지, -야, -ㄹ게) and plain 해라체 (-다, -는다, -냐, -라, -자). A request asks for
`formal`, `polite` or `casual`; casual accepts plain too (both are 반말). A sentence without a final
ending (a heading, a list item, a noun phrase) has no level and is never rewritten.

The rewriter swaps only the last predicate's ending, rebuilt with `Kiwi.join` so allomorphs come out
right (먹+ㅂ니다 -> 먹습니다, 하+어요 -> 해요, 수도+이+에요 -> 수도예요); the rest of the sentence is kept
byte for byte.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from jaju.errors import InvalidRequest
from jaju.korean.analyzer import KoreanAnalyzer, Morpheme

FORMAL, POLITE, CASUAL, PLAIN = "formal", "polite", "casual", "plain"
REQUESTABLE = (FORMAL, POLITE, CASUAL)
PARAM = "jaju.speech_level"

# What each requested level accepts (casual = 반말, which written 해라체 also is).
ACCEPTS = {FORMAL: frozenset({FORMAL}), POLITE: frozenset({POLITE}), CASUAL: frozenset({CASUAL, PLAIN})}

# Endings only, no example sentences: a small model copies an example sentence into its answer.
INSTRUCTIONS = {
    FORMAL: "답변의 모든 문장을 하십시오체로 끝내십시오: 평서문은 '-습니다/-ㅂ니다', 의문문은 '-습니까', "
            "권유는 '-십시오'. '-요'로 끝나는 해요체와 반말은 쓰지 마십시오.",
    POLITE: "답변의 모든 문장을 해요체로 끝내세요: '-아요/-어요', '-이에요/-예요', '-세요'. "
            "'-습니다' 같은 격식체와 반말은 쓰지 마세요.",
    CASUAL: "답변의 모든 문장을 반말(해체)로 끝내: '-아/-어', '-야', '-지'. "
            "'-요'나 '-습니다' 같은 존댓말은 쓰지 마.",
}

_PLAIN = frozenset({"다", "는다", "ᆫ다", "냐", "느냐", "으냐", "니", "으니", "라", "으라", "어라", "아라", "거라",
                    "자", "구나", "는구나", "군", "마", "려무나"})
_CASUAL = frozenset({"어", "아", "지", "야", "이야", "ᆯ게", "을게", "네", "래", "ᆯ래", "을래", "거든", "잖아",
                     "는데", "ᆫ데", "은데", "나", "ᆯ까", "을까", "게", "고", "면서", "더라", "던데"})
_QUESTION = frozenset({"습니까", "ᆸ니까", "냐", "느냐", "으냐", "니", "으니", "나", "ᆯ까", "을까", "ᆯ까요",
                       "을까요", "나요", "ᆯ래", "을래", "ᆯ래요", "을래요"})
_IMPERATIVE = frozenset({"십시오", "으십시오", "ᆸ시오", "라", "으라", "어라", "아라", "거라", "세요", "으세요"})
_PROPOSITIVE = frozenset({"ᆸ시다", "읍시다", "자", "자고요"})
_PROMISE = frozenset({"ᆯ게", "을게", "ᆯ게요", "을게요"})
# Morphemes a predicate's final eojeol is rebuilt from (stems, auxiliaries, derivational suffixes).
_PREDICATE = ("VV", "VA", "VX", "VCP", "VCN", "XSV", "XSA")

# The new final ending per (mood, level); the copula (이다) has its own declarative/question forms.
_ENDINGS = {
    ("statement", FORMAL): "ᆸ니다", ("statement", POLITE): "어요", ("statement", CASUAL): "어",
    ("question", FORMAL): "ᆸ니까", ("question", POLITE): "어요", ("question", CASUAL): "어",
    ("command", FORMAL): "십시오", ("command", POLITE): "세요", ("command", CASUAL): "어",
    ("proposal", FORMAL): "ᆸ시다", ("proposal", POLITE): "어요", ("proposal", CASUAL): "어",
    ("promise", FORMAL): "습니다", ("promise", POLITE): "ᆯ게요", ("promise", CASUAL): "ᆯ게",
}
_FIXED = {  # greetings Kiwi does not analyse into a predicate the join can rebuild
    "안녕하세요": {FORMAL: "안녕하십니까", POLITE: "안녕하세요", CASUAL: "안녕"},
    "안녕하십니까": {FORMAL: "안녕하십니까", POLITE: "안녕하세요", CASUAL: "안녕"},
}


def parse_level(value: object) -> str:
    """The requested level, or a 400 that names the accepted values."""
    if isinstance(value, str) and value.strip().lower() in REQUESTABLE:
        return value.strip().lower()
    raise InvalidRequest(f"{PARAM} must be one of {', '.join(REQUESTABLE)} (하십시오체, 해요체, 반말); "
                         f"got {value!r}.", "invalid_speech_level", PARAM)


def level_of_ending(form: str) -> str | None:
    """The speech level a final ending (EF form as Kiwi writes it) marks, or None if unknown."""
    if form.endswith(("니다", "니까")) or form in ("십시오", "으십시오", "ᆸ시오", "ᆸ시다", "읍시다"):
        return FORMAL
    if form.endswith("요") or form == "죠":
        return POLITE
    if form in _PLAIN:
        return PLAIN
    if form in _CASUAL:
        return CASUAL
    return None


def _final_ending(morphs: list[Morpheme]) -> int | None:
    """Index of the sentence's last final ending, if only punctuation or symbols follow it."""
    for i in range(len(morphs) - 1, -1, -1):
        tag = morphs[i].tag
        if tag == "EF":
            return i
        if not tag.startswith("S"):  # a noun or particle after the ending: not a predicate sentence
            return None
    return None


def _mood(ending: str, punct: str) -> str:
    if ending in _PROMISE:
        return "promise"
    if punct.startswith("?") or ending in _QUESTION:
        return "question"
    if ending in _PROPOSITIVE:
        return "proposal"
    if ending in _IMPERATIVE:
        return "command"
    return "statement"


def _has_final_consonant(syllable: str) -> bool:
    code = ord(syllable) - 0xAC00
    return 0 <= code < 11172 and code % 28 != 0


@dataclass
class SpeechLevel:
    """The controller for one requested level: instruction, detection, rewriting, a streaming checker."""

    analyzer: KoreanAnalyzer
    level: str

    def __post_init__(self) -> None:
        self.level = parse_level(self.level)

    # --- instruct ---------------------------------------------------------------------------
    def instruction(self) -> str:
        """One Korean line for the system message."""
        return INSTRUCTIONS[self.level]

    def instruct(self, messages: list[dict]) -> list[dict]:
        """Messages with the instruction appended to the first system message (or a new one in front)."""
        out = [dict(m) for m in messages]
        for m in out:
            if m.get("role") in ("system", "developer") and isinstance(m.get("content"), str):
                m["content"] = f"{m['content'].rstrip()}\n{self.instruction()}"
                return out
        return [{"role": "system", "content": self.instruction()}, *out]

    # --- detect -----------------------------------------------------------------------------
    def detect(self, sentence: str) -> str | None:
        """formal | polite | casual | plain for one sentence; None when it has no final ending."""
        stripped = sentence.strip()
        for fixed, forms in _FIXED.items():
            if stripped.startswith(fixed):
                return next(lvl for lvl, form in forms.items() if form == fixed)
        morphs = self.analyzer.morphemes(stripped)
        i = _final_ending(morphs)
        return None if i is None else level_of_ending(morphs[i].form)

    def sentences(self, text: str) -> list[tuple[str, str | None]]:
        """(sentence, level) for each sentence of a text."""
        return [(s, self.detect(s)) for _, _, s in self.analyzer.sentences(text)]

    def fits(self, level: str | None) -> bool:
        return level is None or level in ACCEPTS[self.level]

    # --- rewrite ----------------------------------------------------------------------------
    def rewrite(self, sentence: str) -> str:
        """The sentence with its final ending at the requested level; unchanged if it already fits."""
        lead = sentence[:len(sentence) - len(sentence.lstrip())]
        body = sentence[len(lead):]
        for fixed, forms in _FIXED.items():
            if body.startswith(fixed):
                return lead + forms[self.level] + body[len(fixed):]
        morphs = self.analyzer.morphemes(body)
        i = _final_ending(morphs)
        if i is None or self.fits(level_of_ending(morphs[i].form)):
            return sentence
        ef = morphs[i]
        start = self._predicate_start(morphs, i, body)
        if start is None:
            return sentence
        punct = body[ef.end:].strip()
        ending = _ENDINGS[(_mood(ef.form, punct), self.level)]
        head = [(m.form, m.tag.split("-")[0]) for m in morphs[start:i]]
        mood = _mood(ef.form, punct)
        if mood == "command" and head[-1] == ("시", "EP"):
            head = head[:-1]  # 주시+ㅂ시오: the new command ending brings its own honorific
        new = self._ending_for(head, ending)
        if mood == "promise" and self.level == FORMAL:
            new = [("겠", "EP"), ("습니다", "EF")]
        rebuilt = self.analyzer.join(head + new)
        return lead + body[:morphs[start].start] + rebuilt + body[ef.end:]

    def _predicate_start(self, morphs: list[Morpheme], ef: int, body: str) -> int | None:
        """Where the last predicate's morphemes begin: its last stem, plus a noun the copula attaches to."""
        j = ef - 1
        while j >= 0 and morphs[j].tag.startswith("E") and morphs[j].tag != "EC":
            j -= 1  # pre-final endings (었, 겠, 시)
        if j < 0 or not morphs[j].tag.startswith(_PREDICATE):
            return None
        if morphs[j].tag == "VCP" and j > 0 and morphs[j - 1].end == morphs[j].start \
                and not body[morphs[j - 1].start:morphs[j].start].isspace():
            j -= 1  # 수도+이: the noun decides 예요 or 이에요
        return j

    @staticmethod
    def _ending_for(head: list[tuple[str, str]], ending: str) -> list[tuple[str, str]]:
        tags = [t for _, t in head]
        if ending == "어요" and "VCP" in tags and tags[-1] == "VCP":
            noun = head[-2][0] if len(head) > 1 else ""
            # 수도+이+에요 -> 수도예요, 책+이+에요 -> 책이에요 (Kiwi's join gets the vowel case wrong)
            return [("예요" if noun and not _has_final_consonant(noun[-1]) else "에요", "EF")]
        if ending == "어요" and tags and tags[-1] == "VCN":
            return [("에요", "EF")]
        if ending == "어" and tags and tags[-1] in ("VCP", "VCN"):
            return [("야", "EF")]
        return [(ending, "EF")]

    def rewrite_text(self, text: str) -> str:
        """Every sentence of a whole answer rewritten where it slipped; spacing between sentences kept."""
        stream = self.stream()
        return stream.feed(text) + stream.flush()

    def stream(self) -> SpeechStream:
        return SpeechStream(self)


@dataclass
class SpeechStream:
    """Streaming checker: holds text until a sentence is complete, then releases it at the right level.

    `feed(delta)` returns the text that may go to the client now; `flush()` the rest at the end.
    `rewrites` lists (original, rewritten) for each sentence that slipped (for counts, never logged raw).
    """

    speech: SpeechLevel
    rewrites: list[tuple[str, str]] = field(default_factory=list)
    checked: int = 0
    _buffer: str = ""

    def feed(self, text: str) -> str:
        self._buffer += text
        sents = self.speech.analyzer.sentences(self._buffer)
        if len(sents) < 2:
            return ""
        cut = sents[-1][0]  # the last sentence may still grow
        done, self._buffer = self._buffer[:cut], self._buffer[cut:]
        return self._release(done, sents[:-1])

    def flush(self) -> str:
        rest, self._buffer = self._buffer, ""
        return self._release(rest, self.speech.analyzer.sentences(rest)) if rest else ""

    def _release(self, text: str, sents: list[tuple[int, int, str]]) -> str:
        out, pos = [], 0
        for start, end, _ in sents:
            if start < pos:
                continue
            out.append(text[pos:start])
            sentence = text[start:end]
            fixed = self.speech.rewrite(sentence)
            self.checked += 1
            if fixed != sentence:
                self.rewrites.append((sentence, fixed))
            out.append(fixed)
            pos = end
        out.append(text[pos:])
        return "".join(out)
