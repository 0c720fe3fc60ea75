"""Speech level: detection from Kiwi's final endings, rule rewriting, the streaming checker, bad levels."""

from __future__ import annotations

import pytest

from jaju.errors import InvalidRequest
from jaju.korean.speech import SpeechLevel, parse_level

DETECT = [
    ("서울은 한국의 수도입니다.", "formal"),
    ("회의는 몇 시에 시작합니까?", "formal"),
    ("이 서류에 서명해 주십시오.", "formal"),
    ("서울은 한국의 수도예요.", "polite"),
    ("이것은 제 책이에요.", "polite"),
    ("내일 다시 연락드릴게요.", "polite"),
    ("날씨가 좋죠?", "polite"),
    ("이쪽으로 오세요.", "polite"),
    ("밥 먹었어?", "casual"),
    ("그건 내 책이야.", "casual"),
    ("내가 도와줄게.", "casual"),
    ("한국의 수도는 서울이다.", "plain"),
    ("나는 매일 아침 운동을 한다.", "plain"),
    ("너 어디 가냐?", "plain"),
    ("같이 가자.", "plain"),
    ("1. 경복궁", None),  # a list item: no final ending, no level
    ("참고 자료", None),
]


@pytest.mark.parametrize(("sentence", "level"), DETECT)
def test_detects_the_level_of_the_final_ending(analyzer, sentence, level):
    assert SpeechLevel(analyzer, "polite").detect(sentence) == level


REWRITE = [
    ("polite", "서울은 한국의 수도입니다.", "서울은 한국의 수도예요."),
    ("polite", "이건 책이다.", "이건 책이에요."),
    ("polite", "이 문제는 쉽다.", "이 문제는 쉬워요."),
    ("polite", "밥을 먹습니까?", "밥을 먹어요?"),
    ("polite", "그것은 사과가 아닙니다.", "그것은 사과가 아니에요."),
    ("polite", "내가 도와줄게.", "내가 도와줄게요."),
    ("formal", "서울은 한국의 수도예요.", "서울은 한국의 수도입니다."),
    ("formal", "밥을 먹었어요.", "밥을 먹었습니다."),
    ("formal", "어디 가?", "어디 갑니까?"),
    ("formal", "같이 가자.", "같이 갑시다."),
    ("formal", "도와드릴게요.", "도와드리겠습니다."),
    ("formal", "여기에 이름을 써 주세요.", "여기에 이름을 써 주십시오."),
    ("casual", "서울은 한국의 수도입니다.", "서울은 한국의 수도야."),
    ("casual", "감사합니다.", "감사해."),
    ("casual", "해 주세요.", "해 줘."),
    ("casual", "안녕하세요!", "안녕!"),
]


@pytest.mark.parametrize(("level", "sentence", "expected"), REWRITE)
def test_rewrites_only_the_final_ending(analyzer, level, sentence, expected):
    speech = SpeechLevel(analyzer, level)
    rewritten = speech.rewrite(sentence)
    assert rewritten == expected
    assert speech.fits(speech.detect(rewritten))


@pytest.mark.parametrize("level", ["formal", "polite", "casual"])
def test_sentences_already_at_the_level_and_without_endings_are_untouched(analyzer, level):
    speech = SpeechLevel(analyzer, level)
    for sentence in ("1. 경복궁", "참고 자료:", "서울 (Seoul)"):
        assert speech.rewrite(sentence) == sentence
    casual_plain = "나는 학생이다."  # 해라체 counts as 반말 for a casual request
    assert (speech.rewrite(casual_plain) == casual_plain) == (level == "casual")


def test_stream_releases_whole_sentences_at_the_requested_level(analyzer):
    speech = SpeechLevel(analyzer, "polite")
    answer = "서울은 한국의 수도입니다. 인구는 약 천만 명입니다.\n맛있는 음식이 많다. 꼭 가 보세요."
    stream = speech.stream()
    pieces = [stream.feed(ch) for ch in answer]  # one character at a time, as tokens arrive
    assert pieces[0] == ""  # nothing leaves before its sentence is complete
    out = "".join(pieces) + stream.flush()
    assert out == "서울은 한국의 수도예요. 인구는 약 천만 명이에요.\n맛있는 음식이 많아요. 꼭 가 보세요."
    assert len(stream.rewrites) == 3
    assert all(speech.fits(level) for _, level in speech.sentences(out))


def test_instruction_goes_into_the_system_message(analyzer):
    speech = SpeechLevel(analyzer, "formal")
    messages = [{"role": "system", "content": "당신은 친절한 비서입니다."}, {"role": "user", "content": "안녕?"}]
    out = speech.instruct(messages)
    assert out[0]["content"].startswith("당신은 친절한 비서입니다.\n") and "하십시오체" in out[0]["content"]
    assert messages[0]["content"] == "당신은 친절한 비서입니다."  # the caller's list is not changed
    bare = speech.instruct([{"role": "user", "content": "안녕?"}])
    assert bare[0] == {"role": "system", "content": speech.instruction()}


@pytest.mark.parametrize("value", ["honorific", "", None, 3, "존댓말"])
def test_unknown_level_is_a_clear_400(value):
    with pytest.raises(InvalidRequest) as e:
        parse_level(value)
    body = e.value.body()["error"]
    assert e.value.status == 400 and body["param"] == "jaju.speech_level"
    assert "formal, polite, casual" in body["message"]


def test_level_names_are_case_insensitive():
    assert parse_level(" Polite ") == "polite"


@pytest.mark.parametrize(("level", "expected"), [("polite", "이 서류에 서명해 주세요."),
                                                 ("casual", "이 서류에 서명해 줘.")])
def test_formal_command_keeps_one_honorific(analyzer, level, expected):
    assert SpeechLevel(analyzer, level).rewrite("이 서류에 서명해 주십시오.") == expected
