"""Streamed replies checked as they go: blocked words never leave, innocent text is not held."""

from __future__ import annotations

from jaju.compliance.loader import parse_pack
from jaju.compliance.policy import merge
from jaju.moderation.service import ModerationService

BLOCK_ALL = merge([parse_pack("""\
id: strict
title: Strict house rules
law: 운영 정책
jurisdiction: KR
version: '2026-01'
source: https://example.test/policy
binding: false
moderation:
  profanity_insult: {input: block, output: block, article: "제1조"}
  violence_threat: {input: block, output: block, article: "제2조"}
""", "strict.yaml")], "KR")


def run(stream, chunks: list[str]) -> tuple[str, list]:
    out, verdicts = [], []
    for c in chunks:
        v = stream.feed(c)
        out.append(v.text)
        verdicts.append(v)
    v = stream.flush()
    out.append(v.text)
    verdicts.append(v)
    return "".join(out), verdicts


def test_a_word_split_across_chunks_is_blocked_before_it_leaves(moderation: ModerationService) -> None:
    text, verdicts = run(moderation.stream(BLOCK_ALL), ["좋아요. 그런데 ", "씨", "발 ", "이건 ", "아니지"])
    assert text == "좋아요. 그런데 "
    assert verdicts[-1].blocked and verdicts[-1].categories == ("profanity_insult",)


def test_a_phrase_split_across_words_is_blocked(moderation: ModerationService) -> None:
    text, verdicts = run(moderation.stream(BLOCK_ALL), ["너 ", "죽여 ", "버린다 ", "진짜"])
    assert "버린다" not in text and verdicts[-1].blocked


def test_innocent_compounds_stream_through_whole(moderation: ModerationService) -> None:
    chunks = ["이 노선의 ", "시", "발", "역은 ", "청량리역이고 ", "시발점", "에서 한 시간 걸립니다."]
    text, verdicts = run(moderation.stream(BLOCK_ALL), chunks)
    assert text == "".join(chunks)
    assert all(v.action == "allow" for v in verdicts)


def test_only_the_last_word_is_held(moderation: ModerationService) -> None:
    stream = moderation.stream(BLOCK_ALL)
    assert stream.feed("서울의 대표적인 관광지는 경복궁").text == "서울의 대표적인 관광지는 "
    assert stream.feed("입니다. ").text == "경복궁입니다. "
    assert stream.flush().text == ""


def test_flag_policy_releases_everything_and_reports(moderation: ModerationService) -> None:
    text, verdicts = run(moderation.stream(None), ["개새끼", "들 또 ", "새치기하네"])
    assert text == "개새끼들 또 새치기하네"
    assert verdicts[-1].action == "flag" and verdicts[-1].categories == ("profanity_insult",)


def test_after_a_block_nothing_more_is_released(moderation: ModerationService) -> None:
    stream = moderation.stream(BLOCK_ALL)
    stream.feed("ㅅㅂ ")
    assert stream.feed("평범한 문장입니다. ").text == "" and stream.flush().blocked


def test_a_threat_decided_by_its_ending_is_held_until_the_ending_arrives(moderation: ModerationService) -> None:
    # 때려 / 버릴 are harmless alone; 거야 makes them a plan. Nothing from 때려 on may leave first.
    text, verdicts = run(moderation.stream(BLOCK_ALL), ["내일 그 팀장 ", "때려 ", "버릴 ", "거야 ", "진짜로"])
    assert text == "내일 그 팀장 "
    assert verdicts[-1].blocked and verdicts[-1].categories == ("violence_threat",)


def test_praise_with_the_same_verb_is_released_once_its_sentence_ends(moderation: ModerationService) -> None:
    text, verdicts = run(moderation.stream(BLOCK_ALL), ["그 식당 ", "국물 ", "맛이 ", "죽여줘요. ", "또 갈래요"])
    assert text == "그 식당 국물 맛이 죽여줘요. 또 갈래요"
    assert [v.text for v in verdicts][3] == "죽여줘요. "
    assert not verdicts[-1].blocked
