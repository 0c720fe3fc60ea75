"""Where a name sits tells as much as what it looks like: cues around Korean and romanised names.

Each cue yields (start, end, score, needs_kiwi). A cue that is strong on its own (a KakaoTalk speaker,
a 성명 column, "Dear Jisoo") is taken as it is; a weak one (a given name before 언니, a line that starts
"동희:") is only a candidate, kept when Kiwi tags the word as a proper noun (NNP), so 대학 선배 and
장소: are not names while 은지 언니 and 동희: are.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from jaju.privacy.surrogates import has_final

# Kinship words and titles that follow a given name or a bare surname (민지 언니, 김 과장님, 우 선배).
KIN = ("언니", "오빠", "누나", "형님", "형", "동생", "선배님", "선배", "후배", "어머님", "아버님", "어머니", "아버지",
       "엄마", "아빠", "이모", "삼촌", "고모", "쌤", "씨", "님")
OFFICE = ("과장님", "부장님", "대리님", "차장님", "팀장님", "실장님", "주무관님", "주무관", "선배님", "선배", "후배",
          "교수님", "선생님", "기자", "원장님", "사장님", "이사님", "주임님", "매니저님", "매니저", "과장", "부장",
          "대리", "차장", "팀장", "실장", "교수", "원장", "사장", "이사", "주임", "작가님", "감독님", "위원님")
# Bare surnames that are also everyday words before a title: 이 (this), 전 (former), 현 (current),
# 한 (one), 구 (district), 각 (each), 고 (the late), 총 (chief), 부 (vice), 대 (great).
AMBIGUOUS_SURNAMES = frozenset("이전현한구고부대")
SIGN_OFF = ("드림", "올림", "배상")
# Words that take a name's slot before ':' or 드림 but are not names.
NOT_SPEAKERS = frozenset({"내용", "제목", "일시", "장소", "시간", "주소", "결과", "비고", "참고", "답변", "질문", "요약",
                          "안내", "공지", "문의", "요청", "사유", "목적", "기간", "금액", "방법", "준비물", "일정",
                          "대상", "위치", "상태", "메모", "주의", "결론", "의견", "처리", "접수", "날짜", "인사",
                          "엄마", "아빠", "언니", "오빠", "누나", "동생", "선생님", "담임", "팀장", "관리자", "본인",
                          "고객센터", "운영자", "관리실", "경비실", "회사", "학교", "병원", "가족", "친구", "나",
                          "우리", "전체", "모두", "공유", "알림", "시스템", "봇", "사무실", "총무", "회장", "총무팀"})
# Common English first names and surnames from outside Korea, for "Kevin Lee" / "Nguyen Van An".
FIRST_NAMES = ("James", "John", "Robert", "Michael", "William", "David", "Richard", "Joseph", "Thomas", "Charles",
               "Daniel", "Matthew", "Anthony", "Mark", "Paul", "Steven", "Andrew", "Kevin", "Brian", "George",
               "Edward", "Ryan", "Jacob", "Eric", "Jonathan", "Justin", "Scott", "Brandon", "Benjamin", "Samuel",
               "Peter", "Alexander", "Patrick", "Jack", "Dennis", "Tyler", "Aaron", "Henry", "Adam", "Nathan",
               "Mary", "Patricia", "Jennifer", "Linda", "Elizabeth", "Barbara", "Susan", "Jessica", "Sarah",
               "Karen", "Nancy", "Lisa", "Betty", "Sandra", "Ashley", "Emily", "Michelle", "Amanda", "Melissa",
               "Stephanie", "Rebecca", "Laura", "Emma", "Olivia", "Sophia", "Anna", "Maria", "Julia", "Grace",
               "Chloe", "Hannah", "Rachel", "Amy", "Helen", "Joe", "Tom", "Chris", "Alex", "Sam", "Ben", "Tim",
               "Mike", "Kate", "Jane", "Lucy", "Claire", "Sophie", "Emmanuel", "Jean", "Pierre", "Hans", "Carlos",
               "Juan", "Jose", "Luis", "Ahmed", "Mohammed", "Ali", "Fatima", "Omar", "Yuki", "Hiroshi", "Kenji")
FOREIGN_SURNAMES = ("Nguyen", "Tran", "Pham", "Hoang", "Huynh", "Vu", "Tanaka", "Suzuki", "Sato", "Takahashi",
                    "Watanabe", "Yamamoto", "Nakamura", "Wang", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao")
# Capitalised words after "Dear"/"Hi" that are not names.
NOT_ROMAN = frozenset({"Team", "All", "Everyone", "There", "Sir", "Madam", "Customer", "Customers", "Colleagues",
                       "Friends", "Manager", "Support", "Sales", "Hiring", "Valued", "Mr", "Ms", "Mrs", "Dr", "Best",
                       "Regards", "Thanks", "Thank", "Please", "Hello", "Dear", "Hi", "Cheers", "The", "This", "Our",
                       "Korea", "Seoul", "Busan", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
                       "Saturday", "Sunday", "January", "February", "March", "April", "May", "June", "July",
                       "August", "September", "October", "November", "December", "Subject", "Re", "Fw", "Fwd"})

# Foreign given names and surnames as written in Hangul (마리아 로페스 씨, 응우옌 반 안 씨): the most common
# among residents and in the news; only taken before 씨 or a title.
TRANSLITERATED = ("마리아", "마이클", "제임스", "데이비드", "다니엘", "존", "피터", "폴", "알렉스", "사라", "안나", "엠마",
                  "올리비아", "소피아", "줄리아", "니콜", "크리스", "토마스", "윌리엄", "로버트", "조지", "잭", "케빈",
                  "응우옌", "쩐", "팜", "레티", "호앙", "무하마드", "아흐메드", "알리", "타나카", "스즈키", "사토", "왕웨이")
FOREIGN_TITLES = ("씨", "님", "대통령", "총리", "장관", "감독", "선수", "교수", "기자", "대사", "회장", "CEO")
_CAP = r"[A-Z][a-z]+(?:-[A-Za-z][a-z]+)?"
_TWO_CAPS = re.compile(r"[A-Z][a-z]+[ \t]+[A-Z]")
_WORD_THEN_CAPITAL = re.compile(r"[a-z][ \t]+[A-Z]")
# What joins the names of a dotted list (a line break alone makes plain lines of words, not a list).
_LIST_DOTS = ".·ㆍ\u119e・"
_NAME_LABELS = ("성명", "이름", "성함", "고객명", "환자명", "담당자", "name", "Name", "NAME", "학생명", "직원명", "사원명")


def _alt(words: tuple[str, ...]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


def _first(words) -> str:
    """A lookahead for the first characters of `words`: the regex engine skips other positions cheaply."""
    return "(?=[" + "".join(dict.fromkeys(w[0] for w in words)) + "])"


class PersonCues:
    """The cue patterns; `find(text)` yields (start, end, score, needs_kiwi)."""

    def __init__(self, surnames_1: str, surnames_2: tuple[str, ...], given: str, roman_surnames: tuple[str, ...]):
        self._given = frozenset(given)
        self._surnames_1 = frozenset(surnames_1)
        self._surnames_2 = surnames_2
        sn = "|".join(surnames_2) + f"|[{surnames_1}]"
        h = "[가-힣]"
        # 민수야 / 지은아 (vocative; the ending agrees with the last syllable), 김민수야.
        self.vocative = re.compile(rf"(?<![가-힣])(?P<v>{h}{{2,3}})(?P<e>아|야)(?=[\s,.!?~…ㅋㅎㅠㅜ^]|$)")
        # 세린이 같이 / 재석이가 / 서준이 어머님: given name + the affectionate 이 (+ particle).
        self.affectionate = re.compile(rf"(?<![가-힣])(?P<v>{h}{{2}})이(?:가|는|도|랑|를|한테|의|만|네|)(?![가-힣])")
        # 은지 언니, 현우 형, 영훈 선배가, 지호 어머님: a given name (or full name) before a kinship word.
        self.kin = re.compile(rf"(?<![가-힣])(?P<v>{h}{{2,4}}?)[ \t](?:{_alt(KIN)})(?:[이가은는을를의도께]|께서|에게|한테|랑)?(?![가-힣])")
        # 김 과장님, 우 선배, 함 주무관님: a bare surname before an office title.
        self.surname_title = re.compile(rf"{_first((*surnames_1, *surnames_2))}(?<![가-힣])(?P<v>{sn})"
                                        rf"[ \t](?:{_alt(OFFICE)})")
        # What kin, surname_title and transliterated cannot match without: a space, then the word that
        # follows the name. One scan for these words is cheaper than the cue pattern where they are absent.
        self.kin_word = re.compile(rf"[ \t](?:{_alt(KIN)})")
        self.office_word = re.compile(rf"[ \t](?:{_alt(OFFICE)})")
        self.foreign_title = re.compile(rf"[ \t](?:{_alt(FOREIGN_TITLES)})")
        # 동희: ... at the start of a line (a transcript or a chat log).
        self.speaker = re.compile(rf"(?m)^[ \t]*(?P<v>{h}{{2,4}})[ \t]*[:：]")
        # [박지훈] [오전 9:01] (a KakaoTalk export line).
        self.kakao = re.compile(r"(?m)^\[(?P<v>[^\[\]\n]{1,24})\][ \t]*\[(?:오전|오후|AM|PM)[ \t]*\d")
        self.transliterated = re.compile(rf"{_first(TRANSLITERATED)}(?<![가-힣])"
                                         rf"(?P<v>(?:{_alt(TRANSLITERATED)})(?:[ \t][가-힣]{{1,5}}){{0,2}})"
                                         rf"[ \t](?:{_alt(FOREIGN_TITLES)})(?:(?![가-힣])|(?=[은는이가의와과도께에]))")
        # 김상철․박영호․이민정 (a list joined by middle dots, maybe broken over lines): official documents.
        self.dotted = re.compile(r"(?<![가-힣])[가-힣]{2,4}(?:[ \t]*(?:[.·ㆍ\u119e・]|[ \t]*\n)[ \t]*[가-힣]{2,4}(?![가-힣])){2,}")
        # 하은비 드림 / 윤서진 올림 (a signature).
        self.sign_off = re.compile(rf"(?<![가-힣])(?P<v>(?:{sn}){h}{{1,2}})[ \t]*(?:{_alt(SIGN_OFF)})(?![가-힣])")
        first = "|".join(FIRST_NAMES)
        rs = "|".join((*roman_surnames, *FOREIGN_SURNAMES))
        self.roman_first_last = re.compile(rf"(?<![A-Za-z])(?P<v>(?:{first})[ \t]+{_CAP}|(?:{rs})[ \t]+{_CAP}"
                                           rf"(?:[ \t]+{_CAP})?)(?![A-Za-z])")
        self.greeting = re.compile(rf"(?<![A-Za-z])(?:Hi|Hello|Dear|Hey)[ \t]+(?P<v>{_CAP}(?:[ \t]+{_CAP})?)"
                                   rf"(?=[ \t]*[,!\n]|[ \t]*$)")
        self.closing = re.compile(rf"(?:Best|Regards|Best regards|Kind regards|Thanks|Thank you|Cheers|Sincerely)"
                                  rf"[ \t]*,[ \t]*\n?[ \t]*(?P<v>{_CAP}(?:[ \t]+{_CAP})?)[ \t]*(?=\n|$)")
        self.header = re.compile(rf"(?m)^(?:From|To|Cc|CC|Attn|보낸 사람|받는 사람|작성자)[ \t]*:[ \t]*"
                                 rf"(?P<v>{_CAP}(?:[ \t]+{_CAP}){{0,2}})(?=[ \t]*(?:<|,|;|$))")

    # ------------------------------------------------------------------ helpers
    def _given_like(self, word: str) -> bool:
        return 1 <= len(word) <= 2 and all(c in self._given for c in word) and word not in NOT_SPEAKERS

    def _full_like(self, word: str) -> bool:
        if len(word) >= 3 and word[:2] in self._surnames_2:
            return self._given_like(word[2:])
        return 2 <= len(word) <= 4 and word[0] in self._surnames_1 and self._given_like(word[1:])

    def _name_like(self, word: str) -> bool:
        return self._given_like(word) or self._full_like(word)

    # ------------------------------------------------------------------ cues
    def find(self, text: str, has_hangul: bool, has_alpha: bool) -> Iterator[tuple[int, int, float, bool]]:
        if has_hangul:
            yield from self._korean(text)
        if has_alpha:
            two_caps = _TWO_CAPS.search(text) is not None
            word_then_capital = two_caps or _WORD_THEN_CAPITAL.search(text) is not None
            for rx, score in ((self.greeting, 0.8), (self.closing, 0.8), (self.header, 0.8),
                              (self.roman_first_last, 0.7)):
                if rx is self.roman_first_last and not two_caps:
                    continue  # a costly alternation; it needs two capitalised words in a row
                if rx is self.greeting and not word_then_capital:
                    continue  # "Dear Jisoo": a word, a space, a capital
                for m in rx.finditer(text):
                    words = m.group("v").split()
                    if any(w in NOT_ROMAN for w in words):
                        continue
                    yield (*m.span("v"), score, False)
        yield from self._table(text)
        for m in self.kakao.finditer(text) if "[" in text else ():
            v = m.group("v").strip()
            if v and v not in NOT_SPEAKERS and (self._name_like(v) or re.fullmatch(r"[A-Za-z][A-Za-z .'-]+", v)):
                s = m.start("v") + m.group("v").index(v)
                yield s, s + len(v), 0.85, False

    def _korean(self, text: str) -> Iterator[tuple[int, int, float, bool]]:
        for m in self.vocative.finditer(text) if "아" in text or "야" in text else ():
            v, ending = m.group("v"), m.group("e")
            if (ending == "아") != has_final(v[-1]):
                continue  # 민수야, 지은아: the vocative agrees with the final consonant
            if len(v) == 2 and self._given_like(v) or len(v) == 3 and self._full_like(v):
                yield (*m.span("v"), 0.7, True)
        for m in self.affectionate.finditer(text):
            v = m.group("v")
            if has_final(v[-1]) and self._given_like(v):
                yield (*m.span("v"), 0.7, True)
        for m in self.kin.finditer(text) if self.kin_word.search(text) else ():
            v = m.group("v")
            if self._name_like(v):
                yield (*m.span("v"), 0.7, True)
        for m in self.surname_title.finditer(text) if self.office_word.search(text) else ():
            v = m.group("v")
            if v not in AMBIGUOUS_SURNAMES:
                yield (*m.span("v"), 0.75, False)
        speakers = [m for m in (self.speaker.finditer(text) if ":" in text or "：" in text else ())
                    if m.group("v") not in NOT_SPEAKERS and self._name_like(m.group("v"))]
        # Two or more lines opening with a name and ':' are a transcript: take them without Kiwi
        # (it splits unknown given names, 동희 -> 동/MM 희/NNG).
        transcript = len(speakers) >= 2
        for m in speakers:
            yield (*m.span("v"), 0.75 if transcript else 0.7, not transcript)
        # A list of three names holds at least two joins, one of them a dot.
        dotted = any(c in text for c in _LIST_DOTS) and sum(map(text.count, _LIST_DOTS + "\n")) >= 2
        for m in self.dotted.finditer(text) if dotted else ():
            words = [(w.start() + m.start(), w.end() + m.start(), w.group()) for w in re.finditer(r"[가-힣]+", m.group())]
            names = [(a, b) for a, b, w in words if self._full_like(w)]
            if "\n" in m.group() and not re.search(r"[.·ㆍ\u119e・]", m.group()):
                continue  # plain lines of words, not a list
            if len(names) >= 3 and len(names) * 3 >= len(words) * 2:
                for a, b in names:
                    yield a, b, 0.8, False
        for m in self.transliterated.finditer(text) if self.foreign_title.search(text) else ():
            yield (*m.span("v"), 0.9, False)  # above Kiwi's 마리아 alone, so the whole name wins
        for m in self.sign_off.finditer(text) if any(w in text for w in SIGN_OFF) else ():
            if self._full_like(m.group("v")):
                yield (*m.span("v"), 0.8, False)

    def _table(self, text: str) -> Iterator[tuple[int, int, float, bool]]:
        """Cells under a 성명/이름/name column of a | table."""
        if "|" not in text:
            return
        column = None
        pos = 0
        for line in text.splitlines(keepends=True):
            cells = self._cells(line, pos)
            pos += len(line)
            if not cells:
                column = None
                continue
            words = [c[2] for c in cells]
            found = next((i for i, w in enumerate(words) if w in _NAME_LABELS), None)
            if found is not None:
                column = found
                continue
            if column is not None and column < len(cells):
                start, end, word = cells[column]
                if self._name_like(word) or re.fullmatch(rf"{_CAP}(?:[ \t]+{_CAP}){{1,2}}", word):
                    yield start, end, 0.8, False

    @staticmethod
    def _cells(line: str, offset: int) -> list[tuple[int, int, str]]:
        if line.count("|") < 2:
            return []
        out = []
        starts = [i for i, c in enumerate(line) if c == "|"]
        for a, b in zip(starts, starts[1:], strict=False):
            raw = line[a + 1:b]
            word = raw.strip()
            lead = len(raw) - len(raw.lstrip())
            out.append((offset + a + 1 + lead, offset + a + 1 + lead + len(word), word))
        return out
