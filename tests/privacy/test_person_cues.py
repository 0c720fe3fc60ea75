"""Names found by where they sit (person_cues.py): each cue, and the everyday words it must leave alone."""

from __future__ import annotations

import pytest

from jaju.privacy.analyzer import Analyzer


def names(analyzer: Analyzer, text: str) -> list[str]:
    return [text[r.start:r.end] for r in analyzer.analyze(text, entities=["PERSON"])]


@pytest.mark.parametrize(("text", "expected"), [
    ("민수야 오늘 시간 돼?", ["민수"]),                                   # vocative after an open syllable
    ("지은아, 내일 봐", ["지은"]),                                         # and after a closed one
    ("김 과장님, 자료 보내드립니다.", ["김"]),                              # bare surname + office title
    ("우 선배 오늘 회식 오세요?", ["우"]),
    ("은지 언니 결혼식 때 축가 누가 불러?", ["은지"]),                      # given name + kinship word
    ("동희: 회의록 올렸어요\n상민: 확인했습니다", ["동희", "상민"]),          # a transcript
    ("[박지훈] [오전 9:01] 다들 좋은 아침~", ["박지훈"]),                   # KakaoTalk export
    ("견적서 보내드립니다.\n노승철 드림", ["노승철"]),                       # signature
    ("| 성명 | 부서 |\n| 강다인 | 개발팀 |", ["강다인"]),                   # name column of a table
    ("공동발의: 조현태ㆍ강민아ㆍ서재훈", ["조현태", "강민아", "서재훈"]),      # dotted list
    ("Hi Jisoo,\nThanks.\nBest,\nKevin Lee", ["Jisoo", "Kevin Lee"]),     # greeting, closing
    ("From: Park Min-ji <minji@example.com>", ["Park Min-ji"]),
    ("마리아 로페스 씨는 전주를 찾았다.", ["마리아 로페스"]),                 # a foreign name in Hangul
    ("황보슬기 대리님께 전달했습니다.", ["황보슬기"]),                       # compound surname
])
def test_cues_find_names(analyzer: Analyzer, text: str, expected: list[str]) -> None:
    assert names(analyzer, text) == expected


@pytest.mark.parametrize("text", [
    "그래야 해. 빨리 와.",                     # 야 after a word that is no name
    "이 과장님이 말씀하신 자료입니다.",          # 이 = this
    "전 부장님께서 퇴임하셨다.",                # 전 = former
    "대학 선배가 추천해 줬어요.",               # a noun before a kinship word
    "장소: 본관 3층\n일시: 10월 2일",           # labels at line starts
    "사진이 예쁘게 나왔네",                     # a noun + 이
    "Dear Team, the report is attached.",
    "We met at Olympic Park yesterday.",
    "다음 주에 이사한대",
    "| 구분 | 금액 |\n| 식비 | 12,000 |",
])
def test_cues_leave_everyday_words_alone(analyzer: Analyzer, text: str) -> None:
    assert names(analyzer, text) == []


@pytest.mark.parametrize("text", [
    "이에 따라 담당 부서는 안내 체계를 바꿉니다.",   # 담당 is a label, but 부서 is no name after it
    "담당 공무원이 직접 연락합니다.",
    "담당 부처와 협의했습니다.",
    "이하는 생략합니다.",                          # 이하 + 는
])
def test_a_label_before_an_everyday_noun_finds_no_name(analyzer: Analyzer, text: str) -> None:
    assert names(analyzer, text) == []


def test_a_name_that_opens_like_a_word_is_found_when_a_particle_follows(analyzer: Analyzer) -> None:
    """이하은 reads as 이하 + 은 on its own; 이하은에게 cannot (particles do not stack that way)."""
    assert names(analyzer, "담당자 이하은에게 보내 주세요.") == ["이하은"]
