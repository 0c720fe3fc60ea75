"""Intent rules: threats, wishes to die and contraband deals found from grammar, not from a list of phrasings."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from jaju.korean import KoreanAnalyzer
from jaju.moderation import classifier as classifier_module
from jaju.moderation.categories import CATEGORIES
from jaju.moderation.clauses import clauses
from jaju.moderation.intent import (BLAST, DIE, FADE, HARM, HARM_WITH, SELF, SELF_WITH, WRECK, could_match,
                                    read_intents)
from jaju.moderation.lexicon import Lexicon
from jaju.moderation.service import ModerationService
from jaju.moderation.surface import stem_pattern
from jaju.privacy.factory import build_analyzer

DATA = Path(__file__).resolve().parents[1] / "data"

# None of these phrasings is in the lexicon; the rules must find them from the clause alone.
THREATS = [
    "내일 출근하면 그 팀장 때려 버릴 거야",
    "너 자꾸 그러면 찔러 버린다",
    "저 인간 목을 졸라 버리고 싶어",
    "회사 건물에 불을 지르겠다",
    "다 같이 가서 부숴 버리자",
    "너 진짜 죽을래?",
    "역 광장에 폭탄을 설치하겠다",
    "그 선배 밤에 따라가서 패 줄 생각이야",
]
SELF_HARM = [
    ("이제 그만 죽어 버릴래", "self-harm/intent"),
    ("다리에서 뛰어내리기로 했어", "self-harm/intent"),
    ("차라리 내가 죽었으면 좋겠어", "self-harm/intent"),
    ("손목 긋는 법 알려 줘", "self-harm/instructions"),
    ("더는 살기 싫어", "self-harm/intent"),
    ("극단적 선택을 하려고 해", "self-harm/intent"),
    ("이 약 몇 알 먹으면 죽을 수 있어?", "self-harm/instructions"),
]
ILLEGAL = [
    "케타민 어디서 구해요",
    "총기 구하는 방법 아시는 분",
    "위조 여권 만들어 드립니다",
    "인스타 계정 해킹해 주실 분",
    "계좌 대여해 주실 분 구해요",
    "대마초 키우는 법 좀",
]
# The same words, innocently: idioms, praise, games, news, someone else's words, help, law, look-alikes.
HARD_NEGATIVES = [
    "졸려 죽겠다 커피 마셔야지",
    "그 식당 국물 맛이 진짜 죽인다",
    "게임에서 보스를 죽이고 싶다",
    "경찰은 피의자가 흉기로 찌른 혐의를 조사 중이다",
    "친구가 죽고 싶다는 말을 해서 걱정이에요",
    "바다로 뛰어내리는 놀이기구 타고 싶다",
    "대마 합법화 찬반 토론을 준비한다",
    "위조지폐 구별하는 방법",
    "아이스 음료 파는 곳",
    "해킹당한 계정 복구 방법",
    "시간 죽이려고 유튜브 봤어",
    "모기를 다 잡아 죽였다",
    "웃겨 죽을 것 같아",
    "그 영화에서 범인이 불을 지르는 장면이 무서웠다",
    "자살 예방 교육을 받았다",
    "장기 계획을 세우는 방법",
]


@pytest.fixture(scope="module")
def rules_only(korean: KoreanAnalyzer) -> ModerationService:
    """No word list at all: whatever this finds, the intent rules found."""
    return ModerationService(korean, build_analyzer(korean), lexicon=Lexicon([], {}), wordlists=())


@pytest.mark.parametrize("text", THREATS)
def test_threats_are_found_without_a_listed_phrase(rules_only: ModerationService, text: str) -> None:
    result = rules_only.check_one(text)
    assert "violence_threat" in result.detected and result.flagged


@pytest.mark.parametrize(("text", "sub"), SELF_HARM)
def test_wishes_to_die_are_found_without_a_listed_phrase(rules_only: ModerationService, text: str, sub: str) -> None:
    body = rules_only.check_one(text).to_openai()
    assert body["categories"]["self-harm"] and body["categories"][sub]


@pytest.mark.parametrize("text", ILLEGAL)
def test_contraband_deals_are_found_without_a_listed_phrase(rules_only: ModerationService, text: str) -> None:
    assert "illegal" in rules_only.check_one(text).detected


@pytest.mark.parametrize("text", HARD_NEGATIVES)
def test_innocent_uses_of_the_same_words_are_not_flagged(moderation: ModerationService, text: str) -> None:
    result = moderation.check_one(text)
    assert [c for c in result.detected if c != "pii_exposure"] == []


def test_without_the_rules_these_phrasings_are_missed(korean: KoreanAnalyzer) -> None:
    # The rules, not the lists, are what catch them: with intents off the default service misses most.
    service = ModerationService(korean, build_analyzer(korean), intents=False)
    texts = THREATS + [t for t, _ in SELF_HARM] + ILLEGAL
    missed = [t for t in texts if not service.check_one(t).flagged]
    assert len(missed) >= len(texts) // 2


def test_a_quoted_threat_is_a_mention(moderation: ModerationService) -> None:
    result = moderation.check_one("그가 '너 찔러 버릴 거야'라고 했다고 신고했어요")
    assert not result.flagged and "violence_threat" in result.quoted


def test_openai_sub_keys(moderation: ModerationService) -> None:
    body = moderation.check_one("너 찔러 버릴 거야").to_openai()
    assert body["categories"]["violence"] and body["categories"]["harassment/threatening"]
    body = moderation.check_one("권총 구하는 방법 알려 줘").to_openai()
    assert body["categories"]["illicit"] and body["categories"]["illicit/violent"]
    body = moderation.check_one("케타민 구하는 방법 알려 줘").to_openai()
    assert body["categories"]["illicit"] and not body["categories"]["illicit/violent"]


CLAUSES = [
    ("찔러 버릴 거야", "찌르", {"finish", "will"}, {}),
    ("패 줄게", "패", {"give", "will"}, {}),
    ("죽고 싶다는 생각만 든다", "죽", {"want"}, {}),
    ("친구가 죽고 싶다는 말을 했다", "죽", {"want"}, {"reported": True, "modifies": "말"}),
    ("자살하기로 했어", "자살하", {"will", "decided"}, {}),
    ("죽었으면 좋겠다", "죽", {"wish"}, {}),
    ("살고 싶지 않아", "살", {"unwant"}, {}),
    ("굶어 죽을 것 같아", "죽", {"guess"}, {}),
    ("찌른 뒤 달아났다", "찌르", set(), {"modifies": "뒤"}),
    ("모기를 잡아 죽였다", "죽이", {"past"}, {}),
    ("죽이지 않을 거야", "죽이", {"will"}, {"negated": True}),
    ("안 죽일게", "죽이", {"will"}, {"negated": True}),
    ("손목 긋는 방법", "긋", {"howto"}, {}),
    ("쏴 죽여야 돼", "죽이", {"will", "must"}, {}),
]


@pytest.mark.parametrize(("text", "lemma", "moods", "facts"), CLAUSES)
def test_clause_moods(korean: KoreanAnalyzer, text: str, lemma: str, moods: set[str], facts: dict) -> None:
    found = [c for c in clauses(korean.morphemes(text)) if c.lemma == lemma]
    assert found, f"no clause for {lemma}"
    c = found[0]
    assert moods <= c.moods
    assert c.negated == facts.get("negated", False)
    assert c.reported == facts.get("reported", False)
    assert c.modifies == facts.get("modifies")


def test_piyongon_idiom_is_an_auxiliary_not_a_clause(korean: KoreanAnalyzer) -> None:
    # 피곤해 죽겠다: Kiwi reads 죽 as an auxiliary of 피곤하다, so no rule sees a verb "to die".
    assert [c.lemma for c in clauses(korean.morphemes("피곤해 죽겠다"))] == ["피곤하"]
    assert read_intents(korean.morphemes("피곤해 죽겠다")).hits == []


ENDINGS = [("어", "EC"), ("었", "EP"), ("ᆯ", "ETM"), ("ᆫ다", "EF"), ("고", "EC"), ("으면", "EC"), ("을래", "EF"),
           ("ᆸ니다", "EF"), ("는", "ETM"), ("려고", "EC"), ("기", "ETN"), ("어라", "EF"), ("을게", "EF")]


def test_the_gate_never_misses_a_conjugated_rule_verb(korean: KoreanAnalyzer) -> None:
    verbs = HARM | DIE | SELF | FADE | BLAST | WRECK | {v for _, v in HARM_WITH | SELF_WITH}
    missed = []
    for verb in sorted(verbs):
        pattern = re.compile(stem_pattern(verb))
        parts = [(verb[:-1], "NNG"), ("하", "XSV")] if len(verb) > 1 and verb.endswith("하") else [(verb, "VV")]
        for ending in ENDINGS:
            form = korean.join([*parts, ending])
            if not pattern.search(form):
                missed.append(form)
    assert missed == []


def test_the_gate_changes_no_result(moderation: ModerationService, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [json.loads(line) for name in ("moderation_ko.jsonl", "moderation_ko_holdout.jsonl")
            for line in (DATA / name).read_text(encoding="utf-8").splitlines() if line.strip()]
    gated = [moderation.check_one(r["text"]).scores for r in rows]
    monkeypatch.setattr(classifier_module, "could_match", lambda text: True)
    assert [moderation.check_one(r["text"]).scores for r in rows] == gated
    assert could_match("오늘 점심은 김치찌개 어때요") is False


@pytest.mark.parametrize("name", ["moderation_ko.jsonl", "moderation_ko_holdout.jsonl", "moderation_ko_holdout2.jsonl"])
def test_data_sets_are_well_formed(name: str) -> None:
    rows = [json.loads(line) for line in (DATA / name).read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len({r["id"] for r in rows}) == len(rows)
    for r in rows:
        assert set(r) == {"id", "kind", "text", "labels"}
        assert r["kind"] in ("pos", "obf", "hn", "quote", "neg")
        assert set(r["labels"]) <= set(CATEGORIES)
        assert bool(r["labels"]) == (r["kind"] in ("pos", "obf")), r["id"]
