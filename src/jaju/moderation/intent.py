"""Intent rules on Kiwi clauses: threats to hurt someone, a wish to die, buying or selling what is illegal.

The lexicon finds listed phrasings; these rules generalise over how a sentence is built (clauses.py):

- violence_threat: a verb that hurts (죽이, 찌르, 패, 때리, 조르, 쏘; 불 + 지르, 목 + 따) said as a plan
  or wish (찔러 버릴 거야, 패 줄게, 졸라 버리고 싶다, 쏴 죽여야 돼, 다 부수자); said only in the present
  (죽인다), it counts when someone is addressed (너, 당신), since 노래 진짜 죽인다 is praise. 죽다/뒤지다
  with 너 as subject is a threat (너 죽을래?, 너 뒤진다).
- self_harm: 죽다, 자살하다, 뛰어내리다, 목을 매다, 손목을 긋다 ... as one's own want, plan or wish
  (죽고 싶다, 뛰어내리기로 했어, 죽었으면 좋겠다), or a how-to question (손목 긋는 방법, 죽을 수 있어?).
  Not when someone else is the subject (친구가 죽고 싶다는 말을 해요), not 죽겠다 / 죽을 것 같다 /
  죽는 줄 알았다 (idioms), not a description (뛰어내리는 번지점프).
- illegal: a drug, weapon or forged good together with buying, selling, making or asking where and how
  (필로폰 어디서 구해요, 대마 키우는 법, 총기 구하는 곳); a criminal service offered or asked for
  (위조해 주실 분, 해킹해 드립니다, 보이스피싱 대본 써 줄 사람 구함); bank accounts rented out.

Every rule stands down in the contexts that carry the same words innocently: news and court reports
(혐의, 검거, 기소), fiction and games (영화, 장면, 게임, 보스), prevention and statistics (예방, 자살률),
and law and warnings (처벌, 합법화, 구별, 조심, 피해 신고). Quoted speech is handled by the classifier.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from jaju.korean.analyzer import Morpheme
from jaju.moderation.clauses import NOUN_TAGS, Clause, clauses
from jaju.moderation.surface import stem_pattern

SECOND_PERSON = frozenset({"너", "니", "당신", "너희", "느그", "자네", "그쪽"})
FIRST_PERSON = frozenset({"나", "저", "내", "제"})
OTHERS = frozenset({"그", "그녀", "걔", "쟤", "친구", "동생", "언니", "오빠", "형", "누나", "엄마", "아빠", "어머니",
                    "아버지", "아이", "애", "딸", "아들", "남편", "아내", "학생", "환자", "사람", "직원", "동료",
                    "선배", "후배", "남친", "여친", "남자친구", "여자친구", "지인", "가족", "주인공", "범인"})

# --- violence_threat
HARM = frozenset({"죽이", "찌르", "쑤시", "패", "때리", "쏘", "조르", "부수", "깨부수", "밟", "족치", "두들기",
                  "갈기", "테러하", "폭행하", "살해하", "살인하", "린치하", "강간하", "성폭행하", "납치하", "감금하",
                  "난도질하", "난사하"})
HARM_WITH = frozenset({("불", "지르"), ("불", "놓"), ("불", "붙이"), ("목", "따"), ("목", "비틀"), ("뼈", "부러뜨리"),
                       ("박살", "내"), ("작살", "내"), ("아작", "내"), ("끝장", "내"), ("주먹", "꽂"), ("주먹", "날리"),
                       ("칼", "꽂"), ("뚝배기", "깨"), ("머리", "깨"), ("머리통", "깨"), ("대가리", "깨")})
BLAST = frozenset({"터뜨리", "터트리", "날리", "폭파하", "설치하"})  # count only with an explosive named
EXPLOSIVES = frozenset({"폭탄", "폭발물", "다이너마이트", "화염병", "수류탄", "사제폭탄"})
WRECK = frozenset({"엎", "찢", "뒤집", "태우"})  # 가게 엎어 버린다: only with 버리다 and a plan
BEATEN = frozenset({"매", "주먹", "뺨", "따귀", "싸대기"})  # 맞다 with these (or none): 한 대 맞고 싶냐?
DIE = frozenset({"죽", "뒤지"})  # with 너 as subject: 너 죽을래?, 너 뒤진다
# Objects of 죽이다 that are not people, or praise (맛이 죽인다), and pests, games, idioms (시간을 죽이다).
NOT_PEOPLE = frozenset({"시간", "숨", "기", "기세", "소리", "모기", "벌레", "바퀴벌레", "파리", "쥐", "좀비", "몬스터",
                        "보스", "몹", "적", "캐릭터", "세균", "잡초", "바이러스", "맛", "노래", "분위기", "경치", "뷰",
                        "풍경", "목소리", "비주얼", "국물", "음식", "춤", "무대", "연기", "실력", "공", "볼", "슛"})
PESTS = frozenset({"모기", "벌레", "바퀴벌레", "파리", "쥐", "좀비", "몬스터", "보스", "몹", "잡초", "세균"})
STORY = frozenset({"게임", "한타", "킬", "좀비", "몬스터", "보스", "캐릭터", "영화", "드라마", "소설", "웹툰", "만화",
                   "장면", "배역", "혐의", "용의자", "피의자", "피고인", "기소", "체포", "검거", "구속", "판결", "보도",
                   "기사", "뉴스", "사건", "경기", "선수"})
STRONG = frozenset({"will", "shall", "want", "must", "wish"})

# --- self_harm
SELF = frozenset({"죽", "자살하", "자해하", "뛰어내리", "투신하", "뒤지"})
SELF_WITH = frozenset({("목", "매"), ("목", "매달"), ("목", "달"), ("손목", "긋"), ("팔", "긋"), ("몸", "긋"),
                       ("허벅지", "긋"), ("손목", "자르"), ("목숨", "끊"), ("생", "끝내"), ("삶", "끝내"),
                       ("인생", "끝내"), ("목숨", "끝내"), ("번개탄", "피우"), ("유서", "쓰"), ("세상", "떠나"),
                       ("세상", "뜨"), ("선택", "하")})  # 극단적 선택: the press's word for suicide
ACTS = frozenset({"자해하", "긋", "쓰", "피우"})  # done already is itself the warning sign (손목을 그었어)
FADE = frozenset({"사라지", "없어지"})  # 사라지고 싶다: only as a want or wish
OWN_WANTS = frozenset({"want", "will", "wish", "ask", "decided"})
HOWTO = frozenset({"howto", "can"})
SELF_CONTEXT = frozenset({"예방", "방지", "자살률", "통계", "연구", "보도", "뉴스", "기사", "드라마", "영화", "소설",
                          "웹툰", "게임", "캐릭터", "선수", "경기", "자살골"})

# --- illegal
DRUGS = frozenset({"마약", "필로폰", "히로뽕", "메스암페타민", "대마", "대마초", "마리화나", "아이스", "작대기", "빙두",
                   "코카인", "헤로인", "케타민", "엑스터시", "졸피뎀", "프로포폴", "펜타닐", "물뽕", "엘에스디"})
WEAPONS = frozenset({"총", "총기", "권총", "소총", "엽총", "실탄", "탄약", "폭탄", "폭발물", "사제총", "화약",
                     "다이너마이트", "수류탄", "사제폭탄"})
GOODS = frozenset({"위조지폐", "대포통장", "대포폰", "대포차", "짝퉁", "촬영물", "몰카", "신분증위조"})
# Only with buying or selling: 장기 also means long-term, and personal data is discussed lawfully all the time.
SOLD_ONLY = frozenset({"장기", "신장", "각막", "개인정보", "디비", "DB", "db"})
DOCUMENTS = frozenset({"신분증", "주민등록증", "여권", "운전면허증", "면허증", "졸업장", "졸업증명서", "진단서", "재직증명서",
                       "학위증", "성적증명서", "처방전", "영수증"})  # forged when 위조/가짜 is said
SERVICES = frozenset({"위조", "해킹", "디도스", "보이스피싱", "피싱", "스미싱", "카드깡", "도청", "명의도용",
                      "수거책", "인출책", "운반책", "전달책"})
ACCOUNTS = frozenset({"통장", "계좌", "체크카드", "유심"})
# Slang drug names that are also everyday words: only standing alone (아이스 작대기, not 아이스박스).
AMBIGUOUS = frozenset({"아이스", "작대기", "대마", "총", "장기", "신장"})
TRADE_NOUNS = frozenset({"매매", "거래", "판매", "구매", "구입", "직거래", "매입"})
MINORS = frozenset({"미성년자", "미성년", "중학생", "초등학생", "고등학생", "여중생", "여고생", "초딩", "중딩", "아동",
                    "어린이", "청소년", "로리"})
SEXUAL_MEDIA = frozenset({"야동", "야짤", "음란물", "성착취물", "누드", "몰카", "알몸"})
# Someone else's identity or credentials used as one's own (남의 카드 번호로 결제하는 법).
IDENTITY = frozenset({"카드", "카드번호", "계정", "명의", "주민번호", "주민등록번호", "신분증", "비밀번호", "인증서",
                      "공인인증서", "와이파이", "번호"})
TRADE = frozenset({"팔", "파", "사", "구하", "구입하", "구매하", "판매하", "거래하", "던지", "넘기", "나누", "나눔하",
                   "공급하", "제조하", "만들", "키우", "재배하", "밀수하", "매입하", "매매하", "양도하", "대여하",
                   "공유하", "뿌리", "찾", "쓰"})
SELL = frozenset({"팔", "파", "판매하", "사", "구매하", "구입하", "매입하", "매매하", "넘기", "거래하"})
ASKING = frozenset({"방법", "법", "곳", "경로", "루트", "어디", "구함", "판매", "구매", "구입", "직거래", "문의",
                    "텔레", "텔레그램", "디엠", "쪽지", "나눔", "던지기", "대행", "의뢰", "모집", "알바", "구인",
                    "업체", "가능", "제작", "매입", "사례"})
# Nouns that turn 마약 into a brand name (마약김밥, 마약 베개).
BRANDS = frozenset({"김밥", "베개", "떡볶이", "옥수수", "쿠션", "토스트", "라면", "치킨", "소스", "계란", "빵", "매트리스",
                    "아메리카노", "커피", "라떼", "크림", "티"})
LAWFUL = frozenset({"처벌", "법률", "형법", "위반", "합법", "합법화", "불법화", "혐의", "검거", "적발", "구속", "기소",
                    "신고", "피해", "예방", "퇴치", "방어", "조심", "주의", "구별", "구별법", "구분", "감별", "의료용",
                    "허가", "중독", "치료", "재활", "뉴스", "보도", "캠페인", "수사", "판결", "토론", "찬반"})


ILLEGAL_NOUNS = DRUGS | WEAPONS | GOODS | SERVICES | ACCOUNTS
COMPOUNDS = ILLEGAL_NOUNS | SOLD_ONLY | DOCUMENTS


@dataclass(frozen=True, slots=True)
class IntentHit:
    """One rule's finding: category, offsets in the analysed text, score and the OpenAI sub-key it sets."""

    category: str
    rule: str
    start: int
    end: int
    score: float
    sub: str | None = None


def could_match(text: str) -> bool:
    """False when no rule can fire on `text`, so Kiwi need not read it (most everyday texts)."""
    single, pairs = _gate()
    return bool(single.search(text)) or any(a.search(text) and b.search(text) for a, b in pairs)


def rule_word(word: str) -> bool:
    """`word` may begin what a rule reads (a rule verb, a contraband noun, 불 of 불을 지르다)."""
    single, pairs = _gate()
    return bool(single.search(word)) or any(a.search(word) for a, _ in pairs)


@cache
def _gate() -> tuple[re.Pattern[str], tuple[tuple[re.Pattern[str], re.Pattern[str]], ...]]:
    # Each rule needs one of these words; common short words (목, 생, 살, 내) count only with their partner.
    words = sorted({stem_pattern(w) for w in HARM | DIE | SELF | FADE | BLAST | WRECK}
                   | {re.escape(w) for w in ILLEGAL_NOUNS | SOLD_ONLY | SEXUAL_MEDIA | {"남의", "타인", "야한", "야하", "가짜"}})
    pairs = {(re.compile(re.escape(noun)), re.compile(stem_pattern(verb))) for noun, verb in HARM_WITH | SELF_WITH}
    pairs.add((re.compile(stem_pattern("살")), re.compile("싫|않|싶지")))
    pairs.add((re.compile("맞"), re.compile("싶|을래|을 거|을게")))
    return re.compile("|".join(words)), tuple(sorted(pairs, key=lambda p: p[0].pattern))


def innocent_categories(morphemes: list[Morpheme]) -> frozenset[str]:
    """Categories whose words this text uses innocently: a report, a film or game, pests, prevention, law.

    The classifier drops lexicon hits of these categories too, so 칼부림 in a film review and 대포통장 in
    a warning are not flagged either.
    """
    nouns = {m.form for m in morphemes if m.tag in NOUN_TAGS}
    out = set()
    if nouns & STORY or (nouns & PESTS and not _addressed(morphemes)):
        out.add("violence_threat")
    if nouns & SELF_CONTEXT:
        out.add("self_harm")
    if nouns & LAWFUL:
        out.add("illegal")
    return frozenset(out)


@dataclass(frozen=True, slots=True)
class IntentReading:
    """What the rules make of one analysed text."""

    hits: list[IntentHit]
    innocent: frozenset[str]                 # categories whose words the text uses innocently
    # Spans that are someone else's words or state, with the category they concern (None: any):
    # 친구가 죽고 싶다는 말을 해요 reports a friend; 동생이 자해를 해요 worries about a brother.
    mentions: tuple[tuple[int, int, str | None], ...]


def read_intents(morphemes: list[Morpheme]) -> IntentReading:
    """Every rule's hits in one analysed text (context vetoes applied), and what it only reports."""
    cls = clauses(morphemes)
    nouns = {m.form for m in morphemes if m.tag in NOUN_TAGS}
    innocent = innocent_categories(morphemes)
    hits = [*_violence(morphemes, cls, nouns, _addressed(morphemes)), *_self_harm(morphemes, cls),
            *_illegal(morphemes, cls, nouns)]
    mentions = tuple((c.start, c.end, None if c.reported else "self_harm") for c in cls
                     if c.reported or (_self_verb(c) and _subject_is_other(morphemes, c)))
    return IntentReading([h for h in hits if h.category not in innocent], innocent, mentions)


def _self_verb(c: Clause) -> bool:
    return c.lemma in SELF or c.lemma in FADE or (c.obj, c.lemma) in SELF_WITH


def _addressed(ms: list[Morpheme]) -> bool:
    return any(m.tag == "NP" and m.form in SECOND_PERSON for m in ms)


def _violence(ms: list[Morpheme], cls: list[Clause], nouns: set[str], addressed: bool) -> list[IntentHit]:
    sub = "harassment/threatening" if addressed else None
    out: list[IntentHit] = []
    for c in cls:
        if not c.stated:
            continue
        if c.lemma in DIE:
            if _subject_is_you(ms, c) and c.moods & (STRONG | {"now", "ask", "past"}):
                out.append(IntentHit("violence_threat", "die-threat", c.start, c.end, 0.85, "harassment/threatening"))
            elif _subject_is_other(ms, c) and c.moods & {"must", "wish"}:
                out.append(IntentHit("violence_threat", "death-wish", c.start, c.end, 0.8))  # 그놈은 죽어야 해
            continue
        if "past" in c.moods and "wish" not in c.moods:
            continue  # 찌른 뒤 달아났다, 잡아 죽였다: an account of what happened
        strong = bool(c.moods & STRONG) or bool("finish" in c.moods and c.moods & {"now", "ask"})
        if c.lemma in HARM or (c.obj, c.lemma) in HARM_WITH:
            if c.obj in NOT_PEOPLE:
                continue  # 시간 죽이기, 맛이 죽인다
            if c.lemma == "죽이" and "give" in c.moods and not addressed:
                continue  # 죽여주는 맛: praise
            if strong:
                out.append(IntentHit("violence_threat", "harm-plan", c.start, c.end, 0.85, sub))
            elif addressed and c.moods & {"now", "give", "finish"}:
                out.append(IntentHit("violence_threat", "harm-said", c.start, c.end, 0.8, sub))
        elif c.lemma in BLAST and nouns & EXPLOSIVES and strong:
            out.append(IntentHit("violence_threat", "blast-plan", c.start, c.end, 0.85, sub))
        elif c.lemma == "맞" and (c.obj is None or c.obj in BEATEN | SECOND_PERSON) and c.moods & {"want", "will"} \
                and ("question" in c.moods or _subject_is_you(ms, c)):
            out.append(IntentHit("violence_threat", "beating-threat", c.start, c.end, 0.8, "harassment/threatening"))
        elif c.lemma in WRECK and "finish" in c.moods and strong and c.obj not in NOT_PEOPLE:
            out.append(IntentHit("violence_threat", "wreck-plan", c.start, c.end, 0.8, sub))
    return out


def _self_harm(ms: list[Morpheme], cls: list[Clause]) -> list[IntentHit]:
    out: list[IntentHit] = []
    for c in cls:
        pair = (c.obj, c.lemma) in SELF_WITH and (c.obj != "선택" or any(m.form == "극단" for m in ms))
        if not c.stated or not (c.lemma in SELF or pair or c.lemma in FADE or c.lemma == "살"):
            continue
        if _subject_is_you(ms, c) or _subject_is_other(ms, c):
            continue
        moods = c.moods
        if c.lemma == "살":
            if "unwant" in moods:
                out.append(IntentHit("self_harm", "no-will-to-live", c.start, c.end, 0.8, "self-harm/intent"))
            continue
        if c.lemma in FADE:
            if moods & {"want", "wish"}:
                out.append(IntentHit("self_harm", "want-to-vanish", c.start, c.end, 0.75, "self-harm/intent"))
            continue
        if moods & HOWTO and (moods & {"howto", "ask"}):
            out.append(IntentHit("self_harm", "self-harm-howto", c.start, c.end, 0.85, "self-harm/instructions"))
        elif "guess" in moods:
            continue
        elif moods & OWN_WANTS or ("finish" in moods and "shall" not in moods):
            if "past" in moods and "wish" not in moods and "decided" not in moods and c.lemma not in ACTS:
                continue
            out.append(IntentHit("self_harm", "self-harm-intent", c.start, c.end, 0.85, "self-harm/intent"))
        elif "past" in moods and (c.lemma in ACTS and (pair or c.lemma == "자해하")):
            out.append(IntentHit("self_harm", "self-harm-act", c.start, c.end, 0.8, "self-harm/intent"))
    return out


def _illegal(ms: list[Morpheme], cls: list[Clause], nouns: set[str]) -> list[IntentHit]:
    out: list[IntentHit] = []
    asking = bool(nouns & ASKING) or any(c.moods & {"howto", "give"} for c in cls)
    dealing = [c for c in cls if c.lemma in TRADE and not c.negated and not c.reported and "past" not in c.moods]
    selling = [c for c in dealing if c.lemma in SELL]
    if nouns & MINORS and (nouns & SEXUAL_MEDIA or any(m.form == "야하" for m in ms)) and (dealing or asking):
        out.append(IntentHit("illegal", "minors-sexual-media", ms[0].start, ms[-1].end, 0.85))
    for i, m in enumerate(ms):
        if m.tag not in NOUN_TAGS:
            continue
        nxt = ms[i + 1] if i + 1 < len(ms) else None
        form = m.form
        if nxt is not None and nxt.tag in NOUN_TAGS and nxt.start == m.end and form + nxt.form in COMPOUNDS:
            form = form + nxt.form  # Kiwi splits compounds: 체크|카드, 대포|폰
            nxt = ms[i + 2] if i + 2 < len(ms) else None
        if nxt is not None and nxt.tag in NOUN_TAGS and (
                nxt.form in BRANDS or form in AMBIGUOUS and nxt.form not in DRUGS | ASKING | TRADE_NOUNS):
            continue  # 마약 김밥, 아이스 음료, 아이스박스, 대마 성분, 장기 계획: another thing altogether
        if nxt is not None and nxt.form == "당하":
            continue  # 해킹당한 계정: the victim asking
        if form == "남" and nxt is not None and nxt.form == "의" or form in ("타인", "다른사람"):
            rest = {x.form for x in ms[i + 1:i + 6]}
            if rest & IDENTITY and any(c.moods & {"howto"} for c in cls):
                out.append(IntentHit("illegal", "identity-misuse", m.start, ms[-1].end, 0.8))
            continue
        if form in DRUGS or form in WEAPONS or form in GOODS or form.startswith("위조") and form != "위조":
            if dealing or asking:
                end = max([m.end, *(c.end for c in dealing)])
                if form in WEAPONS:
                    out.append(IntentHit("illegal", "weapon-trade", m.start, end, 0.85, "illicit/violent"))
                    out.append(IntentHit("violence_threat", "weapon-trade", m.start, end, 0.7))
                else:
                    out.append(IntentHit("illegal", "contraband-trade", m.start, end, 0.85))
        elif form in SOLD_ONLY and (selling or nxt is not None and nxt.form in TRADE_NOUNS):
            out.append(IntentHit("illegal", "sale-of-person", m.start, max([m.end, *(c.end for c in selling)]), 0.85))
        elif form in DOCUMENTS and nouns & {"위조", "가짜"} and (dealing or asking):
            out.append(IntentHit("illegal", "forged-document", m.start, m.end, 0.85))
        elif form in SERVICES:
            offered = any(c.lemma.startswith(form) and (c.moods & {"give"} or c.modifies in ("분", "사람"))
                          for c in cls)
            if offered or dealing or nouns & ASKING:
                out.append(IntentHit("illegal", "criminal-service", m.start, m.end, 0.85))
        elif form in ACCOUNTS:
            if any((c.lemma == "빌리" and "give" in c.moods) or c.lemma in ("팔", "양도하", "대여하", "넘기")
                   for c in dealing):
                out.append(IntentHit("illegal", "account-rental", m.start, m.end, 0.85))
    return out


def _subject_is_you(ms: list[Morpheme], c: Clause) -> bool:
    """The nearest pronoun before the clause, in its sentence, is 너/당신 (너 죽을래?, 너 오늘 뒤진다)."""
    for m in reversed(ms[:_index(ms, c.start)]):
        if m.tag == "NP":
            return m.form in SECOND_PERSON
        if m.tag == "SF":
            return False
    return False


def _subject_is_other(ms: list[Morpheme], c: Clause) -> bool:
    """The nearest subject before the clause is someone else (친구가, 그는, 저런 놈들은), not 나/저."""
    before = ms[:_index(ms, c.start)]
    for k in range(len(before) - 1, 0, -1):
        if before[k].tag not in ("JKS", "JX") or before[k].form not in ("이", "가", "은", "는", "께서"):
            continue
        plural = before[k - 1].tag == "XSN" and before[k - 1].form == "들"
        noun = before[k - 2] if plural and k >= 2 else before[k - 1]
        if noun.tag not in (*NOUN_TAGS, "NNB"):
            return False
        return noun.form not in FIRST_PERSON and (plural or noun.form in OTHERS or noun.form in ("놈", "년"))
    return False


def _index(ms: list[Morpheme], start: int) -> int:
    for i, m in enumerate(ms):
        if m.start >= start:
            return i
    return len(ms)
