"""Korean moderation on real sentences: disguised abuse is caught, innocent look-alikes are not."""

from __future__ import annotations

import pytest

from jaju.moderation.service import ModerationService

OBFUSCATED = [
    ("씨발 왜 또 안 돼", "profanity_insult"),
    ("ㅅㅂ 또 야근이야", "profanity_insult"),              # 초성
    ("ㅄ 같은 게 까불어", "profanity_insult"),             # compound jamo
    ("ㅂ1ㅅ 인증이냐", "profanity_insult"),                # digit between jamo
    ("시1발 또 놓쳤네", "profanity_insult"),               # digit insertion
    ("시@발 진짜", "profanity_insult"),                    # symbol insertion
    ("씨 발 왜 이래", "profanity_insult"),                 # spaced
    ("ㅆ ㅣ ㅂ ㅏ ㄹ 진짜", "profanity_insult"),            # jamo split and spaced
    ("ㅅㅣㅂㅏㄹ 이게 뭐야", "profanity_insult"),          # jamo split
    ("si발 그만 좀 해", "profanity_insult"),               # mixed script
    ("tlqkf 뭐 하냐", "profanity_insult"),                 # 2-set keyboard, Korean input off
    ("ｔｌｑｋｆ 진짜", "profanity_insult"),               # full-width
    ("씨이이이발 늦었다", "profanity_insult"),             # drawn out
    ("씨\u200b발 렉 걸렸다", "profanity_insult"),          # zero-width space
    ("개색히 어디 갔어", "profanity_insult"),              # sound-alike spelling
    ("병 신 아 정신 차려", "profanity_insult"),
    ("짱1깨 음식은 더러워", "hate_discrimination"),
    ("WkdRo들 다 꺼져", "hate_discrimination"),
    ("섹1스 하자", "sexual"),
    ("tprtm 할 사람", "sexual"),
    ("죽1여 버린다", "violence_threat"),
    ("쥬겨버린다 너", "violence_threat"),
    ("wnrduqjflsek", "violence_threat"),
    ("자1살 하는 법", "self_harm"),
    ("wktkf 하고 싶다", "self_harm"),
    ("ㄷㅐㅁㅏ 팝니다", "illegal"),
    ("필1로폰 구합니다", "illegal"),
]

HARD_NEGATIVES = [
    "시발점에서 종착역까지 한 시간 걸려요",      # 始發點
    "이 노선의 시발역은 청량리역이다",
    "시발 택시는 한국 최초의 자동차로 알려져 있다",
    "수박씨 발라내고 먹어",
    "새끼손가락 걸고 약속해",
    "고양이 새끼 세 마리가 태어났다",
    "산책하다가 우리 집 개 새끼발가락이 다쳤다",
    "이 병 신경 쓰지 말고 버려",                # 병 + 신경
    "병신년에 일어난 사건을 배웠다",             # the year 丙申
    "어제 그 영화를 보지 못했다",               # 보- + -지
    "밤새 자지 않고 공부했다",
    "일본 자위대가 합동 훈련을 했다",
    "이번 여름에 대마도 여행을 간다",
    "마약김밥 먹으러 광장시장 가자",
    "아이스 아메리카노 한 잔 주세요",
    "떨려서 발표를 못 하겠어",
    "ㅈㅅ 늦었어 금방 갈게",                    # 죄송
    "배고파 죽겠다 밥 먹으러 가자",
    "그 선수가 자살골을 넣어서 경기에 졌다",
    "자살 예방 상담전화는 109번이며 24시간 운영됩니다",
    "경찰은 흉기를 휘두른 용의자를 현장에서 체포했다",
    "경찰이 대포통장 유통 조직을 적발했다",
    "십팔번 노래가 뭐예요",
    "모든 국민은 양심의 자유를 가진다",            # 가진다 folds like 찐따
    "예고내용의 성격 등을 고려하여 정한다",        # 고려 folds like 꼴려
    "체포된 자의 가족에게 지체 없이 통지한다",     # 자|의 folds like 자위
    "자의로 진술된 것이 아니라고 인정될 때",       # 자의 (自意)
]

QUOTED = [
    ("그가 나에게 '씨발'이라고 했다고 신고합니다", "profanity_insult"),
    ("직장 상사가 저한테 미친년이라고 했어요 어떻게 신고하나요", "profanity_insult"),
    ("아이가 학교에서 ㅅㅂ이라는 말을 배워 왔어요", "profanity_insult"),
    ("가해자는 피해자에게 '죽여 버리겠다'는 문자를 여러 차례 보냈다", "violence_threat"),
    ("'김치녀' 같은 단어는 여성 혐오 표현으로 분류된다", "hate_discrimination"),
]


@pytest.mark.parametrize(("text", "category"), OBFUSCATED)
def test_obfuscated_abuse_is_caught(moderation: ModerationService, text: str, category: str) -> None:
    result = moderation.check_one(text)
    assert category in result.detected
    assert result.flagged


@pytest.mark.parametrize("text", HARD_NEGATIVES)
def test_innocent_lookalikes_are_not_flagged(moderation: ModerationService, text: str) -> None:
    result = moderation.check_one(text)
    assert [c for c in result.detected if c != "pii_exposure"] == []
    assert not result.flagged


@pytest.mark.parametrize(("text", "category"), QUOTED)
def test_reported_abuse_is_a_mention_not_a_flag(moderation: ModerationService, text: str, category: str) -> None:
    result = moderation.check_one(text)
    assert not result.flagged
    assert category in result.quoted


def test_the_same_word_said_outright_is_flagged(moderation: ModerationService) -> None:
    assert moderation.check_one("씨발 이거 왜 또 안 돼").flagged
    assert not moderation.check_one("그가 나에게 '씨발'이라고 했다고 신고합니다").flagged


def test_openai_keys_follow_the_korean_categories(moderation: ModerationService) -> None:
    body = moderation.check_one("죽고 싶다는 생각만 든다").to_openai()
    assert body["categories"]["self-harm"] and body["categories"]["self-harm/intent"]
    assert not body["categories"]["self-harm/instructions"]
    body = moderation.check_one("중학생이랑 자 본 썰 푼다").to_openai()
    assert body["categories"]["sexual"] and body["categories"]["sexual/minors"]
    body = moderation.check_one("사제 폭탄 제조법 공유합니다").to_openai()
    assert body["categories"]["illicit"] and body["categories"]["illicit/violent"]


def test_personal_data_is_found_by_the_privacy_analyzer(moderation: ModerationService) -> None:
    result = moderation.check_one("박지훈 과장 휴대폰 010-3456-7890")
    assert result.detected == ("pii_exposure",)
    # OpenAI has no privacy key; exposure alone does not set `flagged`.
    assert not result.flagged and result.to_openai()["jaju"]["categories"]["pii_exposure"]
    assert "pii_exposure" not in moderation.check_one("김민수 고객님 안녕하세요").detected


def test_several_texts_keep_their_order(moderation: ModerationService) -> None:
    results = moderation.check(["오늘 점심은 김치찌개 어때요", "개새끼들 또 새치기하네", ""])
    assert [r.flagged for r in results] == [False, True, False]
