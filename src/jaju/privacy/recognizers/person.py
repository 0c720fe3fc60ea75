"""Person names: Korean (surname list, titles and labels, Kiwi proper nouns) and romanised/English."""

from __future__ import annotations

import re

from jaju.korean import KoreanAnalyzer
from jaju.privacy.recognizer import RecognizerResult, Scan, words_regex
from jaju.privacy.recognizers.person_cues import PersonCues

SURNAMES_2 = ("남궁", "제갈", "선우", "황보", "독고", "사공", "서문", "동방", "을지", "어금")
SURNAMES_1 = ("김이박최정강조윤장임한오서신권황안송류유전홍고문양손배백허남심노하곽성차주우구민진나지엄채원천"
              "방공현함변염여추도소석선설마길연위표명기반왕금옥육인맹제모탁국어은편용예경봉사부가복태목형피두감")
# Syllables common in given names; a cheap filter before Kiwi is asked (keeps Kiwi off most words).
GIVEN = ("강건솜롬람가비새슬란별민수영희지현준서연우진호성은혜경미정동철상훈재윤주원석태규승형세선아나라보람하늘솔별빛유"
         "인혁범찬용기환광명남녀다도래린림채예소시신애옥완요욱웅의이일자장제종중창천청초춘충치탁택한해향"
         "헌현협화효후휘흥희결겸관교구권근금길덕두란련록룡률리만모무문배백벽병복봉부빈사산삼새샘석섭숙순"
         "슬식심안양언엽오온왕우운위율융을임전점조좌준지진찬채철추태판평표필학함항허홍")
TITLES = ("선생님", "고객님", "환자분", "담당자", "과장님", "대리님", "부장님", "차장님", "팀장님", "실장님", "원장님",
          "교수님", "사장님", "대표님", "이사님", "주임님", "간호사", "변호사", "세무사", "기자", "선생", "고객",
          "환자", "과장", "대리", "부장", "차장", "팀장", "실장", "원장", "교수", "사장", "대표", "이사", "주임",
          "사원", "작가", "학생", "주무관님", "주무관", "매니저", "의원", "장관", "대통령", "총리", "협회장",
          "사무총장", "위원장", "회장님", "감독", "선수", "님", "씨", "군", "양")
LABELS = ("성명", "이름", "고객명", "환자명", "담당자", "담당", "작성자", "검토자", "신청인", "신청자", "예금주", "수신인",
          "수신자", "받는 분", "받는분", "보호자", "성함", "대표자", "가입자", "피보험자", "계약자", "발신인", "민원인",
          "지원자", "운전자", "참석자", "수령인", "수취인", "구매자", "판매자", "임차인", "임대인", "채무자", "채권자",
          "상담원", "회원명", "학생명", "증인", "원고", "피고", "고객", "환자", "매도인", "매수인", "보증인",
          "연대보증인", "송금인", "보낸 분", "보내는 분", "보내는 사람", "받는 사람", "주치의", "담당의", "담임",
          "평가자", "면접관", "대표이사", "학부모", "의뢰인", "신고인", "문의자", "수강생", "강사", "기사님 성함")
# Words that look like surname + syllable and sit before a title but are not names (기사님, 고객님, 부모님).
NOT_NAMES = frozenset({"고객", "기사", "부모", "사모", "선생", "원장", "교수", "과장", "부장", "차장", "사장", "대표",
                       "이사", "주임", "실장", "팀장", "대리", "환자", "간호", "변호", "세무", "기자", "작가", "학생",
                       "사원", "형님", "누님", "언니", "오빠", "아버", "어머", "할머", "할아", "고모", "이모", "삼촌",
                       "사위", "며느", "손님", "주님", "하느", "하나", "여러", "모두", "우리", "당신", "그분", "이분",
                       "저분", "여러분", "어제", "오늘", "내일", "모레", "이번", "지난", "다음", "예시", "배송", "배송지",
                       "신한", "서울", "사우디", "한국", "조선", "정부", "국민", "기업", "우체", "신협", "수협", "전화",
                       "문의", "상담", "안내", "공지", "사용", "이용", "구매", "판매", "주문", "결제", "배달", "택배",
                       "강남", "강북", "한강", "제주", "부산", "대구", "인천", "광주", "대전", "울산", "세종", "경기",
                       "강원", "충북", "충남", "전북", "전남", "경북", "경남", "도로", "지번", "주소", "성명", "이름",
                       "연락", "연락처", "성함", "정보", "이고", "이며", "이고요", "이에요", "이라", "이랑", "이나",
                       "이면", "이후", "이전", "이상", "이하", "이내", "이외", "이메일", "주민", "주소지", "전화번호",
                       "소재지", "예금주", "주식회사", "강남구", "연결이", "국회", "전통", "재래", "대학", "회사",
                       "학교", "병원", "약국", "은행", "지점", "본점", "센터", "현장", "정문", "후문", "주무관", "나이",
                       "부서", "부처", "공무원"}) | frozenset(LABELS)
_PARTICLE_END = "은는이가을를의도처"
_ENDINGS = ("요", "다", "니", "까", "죠", "며", "면", "게")
_PARTICLES = "|".join(sorted(("이", "가", "은", "는", "을", "를", "의", "에게", "께", "께서", "한테", "와", "과", "도", "만",
                              "이랑", "랑", "하고", "이다", "이고", "이며", "입니다", "이에요", "예요", "이가", "에게서",
                              "께서는", "께서도", "으로", "로", "님", "씨", "님의", "님이", "님께", "님은", "님도", "씨가",
                              "씨는", "씨의", "씨와", "이는", "이도", "이의", "이를", "이와", "이한테", "에게는"),
                             key=len, reverse=True))
PERSON_CONTEXT = ("고객", "환자", "담당자", "선생님", "님", "씨", "성명", "이름", "성함", "연락", "name", "mr", "ms",
                  "customer", "patient")
# Kiwi also tags places and organisations NNP; these endings mark a place far more often than a name.
_PLACE_ENDINGS = ("시", "군", "구", "읍", "면", "로", "길", "도", "역", "국", "청", "원", "사", "대")
ROMAN_SURNAMES = ("Kim", "Lee", "Park", "Choi", "Jung", "Jeong", "Kang", "Cho", "Jo", "Yoon", "Yun", "Jang",
                  "Chang", "Lim", "Im", "Han", "Oh", "Seo", "Shin", "Kwon", "Hwang", "Ahn", "Song", "Yoo", "Ryu",
                  "Hong", "Ko", "Moon", "Yang", "Son", "Bae", "Baek", "Heo", "Nam", "Noh", "Ha", "Kwak", "Sung",
                  "Cha", "Joo", "Woo", "Koo", "Min", "Jin", "Na", "Ji", "Eom", "Chae", "Won", "Cheon", "Bang")
_HONORIFIC = r"(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Sir|Madam)\.?"
_CAP = r"[A-Z][a-z]+(?:-[A-Za-z][a-z]+)?"

_S2 = "|".join(SURNAMES_2)
_SN = rf"(?:{_S2}|[{SURNAMES_1}])"
# A lookahead on the first character lets the regex engine pass over every other position cheaply.
_SN_FIRST = "(?=[" + SURNAMES_1 + "".join(dict.fromkeys(s[0] for s in SURNAMES_2)) + "])"
_G = f"[{GIVEN}]"
_TITLE = "|".join(TITLES)
_LABEL = "|".join(re.escape(w) for w in LABELS)


class PersonRecognizer:
    """Names with a title or label are found by pattern; other Korean candidates are confirmed by Kiwi."""

    entity = "PERSON"

    def __init__(self, korean: KoreanAnalyzer | None = None):
        self.name = type(self).__name__
        self._korean = korean
        # 홍길동님, 김민수 고객님, 이영희 담당자: a name right before a title.
        self._titled = re.compile(rf"{_SN_FIRST}(?<![가-힣0-9A-Za-z])(?P<v>{_SN}[가-힣]{{1,2}})(?:[ \t]?(?:{_TITLE}))")
        # 성명: 홍길동, 담당자 김철수, 예금주 박영희
        self._labelled = re.compile(rf"(?:{_LABEL})[ \t]*[:：]?[ \t]*(?:은|는)?[ \t]*(?P<v>{_SN}[가-힣]{{1,2}}?)"
                                    rf"(?:{_PARTICLES})?(?![가-힣])")
        # 정다솜입니다 / 저는 김민수예요: a self-introduction.
        self._intro = re.compile(rf"(?:^|(?<=[\n.!?])[ \t]*|저는[ \t]|제 이름은[ \t])(?P<v>{_SN}[가-힣]{{1,2}})"
                                 rf"(?:입니다|이에요|예요|이라고|라고)")
        # "참석자: 한가람, 원빈우, 홍길동": names listed after a label.
        self._listed = re.compile(rf"[ \t]*[,/·ㆍ\u119e・.][ \t]*\n?[ \t]*(?P<v>{_SN}[가-힣]{{1,2}})(?![가-힣]|[ \t]*[:：])")
        # Candidates for Kiwi: a whole word that is surname + two name syllables, bare or with a particle.
        # Two-syllable names (김구) are only taken with a title or label: bare, they are mostly nouns.
        self._candidate = re.compile(rf"{_SN_FIRST}(?<![가-힣])(?P<v>{_SN}{_G}{{2}})(?:{_PARTICLES})?(?![가-힣])")
        self._roman_titled = re.compile(rf"{_HONORIFIC}[ \t]+(?P<v>{_CAP}(?:[ \t]+{_CAP}){{0,2}})")
        rs = "|".join(ROMAN_SURNAMES)
        self._roman_korean = re.compile(
            rf"(?=[A-Z])(?<![A-Za-z])(?P<v>(?:{rs})[ \t]+[A-Z][a-z]+-[a-z]+|[A-Z][a-z]+-[a-z]+[ \t]+(?:{rs})"
            rf"|(?:{rs})[ \t]+[A-Z][a-z]{{3,}}(?=[ \t]*(?:[,.)]|$|님|씨)))(?![A-Za-z])")
        self._roman_labelled = re.compile(
            rf"(?i:name|customer|patient|contact|dear|attn|from|signed)[ \t]*[:,]?[ \t]+(?P<v>{_CAP}(?:[ \t]+{_CAP}){{1,2}})")
        self._context = words_regex(PERSON_CONTEXT)
        self._cues = PersonCues(SURNAMES_1, SURNAMES_2, GIVEN, ROMAN_SURNAMES)

    def analyze(self, scan: Scan) -> list[RecognizerResult]:
        out: list[RecognizerResult] = []
        text = scan.norm.text
        strong, weak = [], []
        for start, end, score, needs_kiwi in self._cues.find(text, scan.has_hangul, scan.has_alpha):
            (weak if needs_kiwi else strong).append((start, end, score))
        if scan.has_hangul:
            out += self._by_pattern(text, self._titled, 0.85)
            out += self._by_pattern(text, self._labelled, 0.85)
            if any(w in text for w in _INTRO_ENDINGS):
                out += self._by_pattern(text, self._intro, 0.75)
            if self._korean is not None:
                found = {(r.start, r.end) for r in out}
                # Spans already taken at Kiwi's best score (0.85) or better: asking Kiwi about them again
                # could only add a result that loses to them, so their windows are left out (Kiwi is
                # most of this recognizer's cost). The same goes for words inside a span an earlier
                # recognizer claimed above that score (경기도 and 고양시 inside an address).
                settled = {(r.start, r.end) for r in out if r.score >= _KIWI_BEST}
                settled.update((s, e) for s, e, score in strong if score >= _KIWI_BEST)
                weak = [(s, e, score) for s, e, score in weak if (s, e) not in found]
                by_kiwi, proper = self._by_kiwi(scan, [(s, e) for s, e, _ in weak], settled)
                out += [r for r in by_kiwi if (r.start, r.end) not in found]
                # Weak cues (은지 언니, 동희:) count only where Kiwi calls the word a proper noun.
                out += [RecognizerResult(self.entity, s, e, score, self.name) for s, e, score in weak
                        if (s, e) in proper or (s, e + 1) in proper]
        if scan.has_alpha:
            out += self._by_pattern(text, self._roman_titled, 0.85)
            # Both need two words in a row, a capitalised one after one ending in a small letter.
            if _WORD_THEN_CAPITAL.search(text) is not None:
                out += self._by_pattern(text, self._roman_korean, 0.75)
                out += self._by_pattern(text, self._roman_labelled, 0.6)
        out += [RecognizerResult(self.entity, s, e, score, self.name) for s, e, score in strong]
        return out

    def _by_pattern(self, text: str, rx: re.Pattern[str], score: float) -> list[RecognizerResult]:
        out = []
        pos = 0
        while (m := rx.search(text, pos)) is not None:
            # A particle or copula right after the name (이하은에게, 이하은입니다) means its last syllable is
            # not one (이하 + 은): particles do not stack that way.
            if _stop(m.group("v"), suffixed=rx is not self._titled and m.end() > m.end("v")):
                # "환자 성함은 송다인": the label word was taken for a name; look again one char on.
                pos = m.start() + 1
                continue
            pos = m.end()
            out.append(RecognizerResult(self.entity, *m.span("v"), score, self.name))
            if rx is self._labelled:
                pos = m.end()
                while (more := self._listed.match(text, pos)) is not None and not _stop(more.group("v")):
                    out.append(RecognizerResult(self.entity, *more.span("v"), score, self.name))
                    pos = more.end()
        return out

    def _by_kiwi(self, scan: Scan, cue_spans: list[tuple[int, int]], settled: set[tuple[int, int]]
                 ) -> tuple[list[RecognizerResult], set[tuple[int, int]]]:
        """One Kiwi call over short windows around candidate words and weak cues.

        Returns the names Kiwi confirms among the candidates, and every proper-noun span it saw.
        Candidates in `settled`, or inside a span claimed above Kiwi's best score, are skipped unless a
        weak cue's window touches theirs.
        """
        text = scan.norm.text
        spans: list[tuple[int, int]] = []
        for s, e in cue_spans:
            lo = max(text.rfind(" ", 0, max(0, s - 1)), text.rfind("\n", 0, s)) + 1
            spans.append((max(lo, s - 6), min(len(text), e + 3)))
        cue_windows = list(spans)
        # Spans an earlier recognizer claimed above Kiwi's best score, listed once rather than per candidate.
        claimed = [(c.start, c.end) for c in scan.claimed if c.score > _KIWI_BEST]
        for m in self._candidate.finditer(text):
            # 주세요, 했습니다: verb endings share syllables with given names.
            if _stop(m.group("v"), suffixed=m.end() > m.end("v")) or m.group("v").endswith(_ENDINGS):
                continue
            lo, hi = m.span()
            # A bare name gets the next word as context (윤석준 alone is NNG, 윤석준 한국은행 NNP);
            # a particle already tells Kiwi enough.
            nxt = _NEXT_WORD.match(text, hi) if hi == m.end("v") else None
            hi = nxt.end() if nxt is not None else hi
            if _decided(m.span("v"), settled, claimed) and not any(a <= hi and lo <= b for a, b in cue_windows):
                continue
            spans.append((lo, hi))
        if not spans:
            return [], set()
        windows: list[tuple[int, int]] = []
        for lo, hi in sorted(spans):
            if windows and lo <= windows[-1][1]:
                windows[-1] = (windows[-1][0], max(hi, windows[-1][1]))
            else:
                windows.append((lo, hi))
        assert self._korean is not None
        # One Kiwi call over the windows joined by line breaks (cheaper than a batch call, and
        # KoreanAnalyzer.morphemes_many needs worker threads).
        joined, offsets, pos = [], [], 0
        for lo, hi in windows:
            offsets.append((pos, lo))
            joined.append(text[lo:hi])
            pos += hi - lo + 1
        morphs = self._korean.morphemes("\n".join(joined))
        out: list[RecognizerResult] = []
        proper: set[tuple[int, int]] = set()
        w = 0
        for i, mo in enumerate(morphs):
            while w + 1 < len(offsets) and mo.start >= offsets[w + 1][0]:
                w += 1
            if mo.tag != "NNP":
                continue
            start = mo.start - offsets[w][0] + offsets[w][1]
            end = start + mo.length
            proper.add((start, end))
            if not 2 <= len(mo.form) <= 4 or not _looks_like_name(mo.form):
                continue
            nxt = morphs[i + 1] if i + 1 < len(morphs) else None
            # A proper noun glued to a following noun is part of a compound (한국전력), not a name.
            if nxt is not None and nxt.start == mo.end and nxt.tag in ("NNG", "NNP", "XSN"):
                continue
            score = 0.6
            if self._context is not None and self._context.search(scan.lower, max(0, start - 20), end + 12):
                score = _KIWI_BEST
            out.append(RecognizerResult(self.entity, start, end, score, self.name))
        return out, proper


_NEXT_WORD = re.compile(r"[ \t][^\s]{1,4}")
_WORD_THEN_CAPITAL = re.compile(r"[a-z][ \t]+[A-Z]")
# What every self-introduction (_intro) ends with; 이라고 holds 라고.
_INTRO_ENDINGS = ("입니다", "이에요", "예요", "라고")
# The highest score a Kiwi-confirmed name gets (with a context word nearby).
_KIWI_BEST = 0.85


def _decided(span: tuple[int, int], settled: set[tuple[int, int]], claimed: list[tuple[int, int]]) -> bool:
    """Whether a candidate's name span is taken already: by another PERSON rule at Kiwi's best score or
    better, or inside a span (`claimed`) an earlier recognizer claimed above it."""
    start, end = span
    return span in settled or any(a <= start and end <= b for a, b in claimed)


def _stop(v: str, suffixed: bool = False) -> bool:
    """A common word (or, unless another particle follows, a common word plus a particle) in a name-shaped
    slot; 주에 (a noun + 에)."""
    return (v in NOT_NAMES or (not suffixed and len(v) == 3 and v[:2] in NOT_NAMES and v[2] in _PARTICLE_END)
            or v.endswith("에"))


def _looks_like_name(form: str) -> bool:
    """Surname, then one or two syllables common in given names; not a place or a stop word."""
    # 엄지원, 이주원: a three-syllable name may end in 원, where a two-syllable proper noun (수원) is a place.
    if form in NOT_NAMES or (form.endswith(_PLACE_ENDINGS) and not (len(form) == 3 and form[-1] == "원")):
        return False
    if form[:2] in SURNAMES_2:
        given = form[2:]
    elif form[0] in SURNAMES_1:
        given = form[1:]
    else:
        return False
    return 1 <= len(given) <= 2 and all(c in GIVEN for c in given)
