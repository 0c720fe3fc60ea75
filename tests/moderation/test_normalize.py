"""The normaliser undoes disguises and keeps offsets into the original text."""

from __future__ import annotations

import pytest

from jaju.moderation.normalize import compose_jamo, skeleton, views


@pytest.mark.parametrize(("text", "expected"), [
    ("시1발 버스", "시발 버스"),            # digit wedged in
    ("시@발", "시발"),                      # symbol wedged in
    ("씨~발", "씨발"),
    ("ㅅㅣㅂㅏㄹ 이게", "시발 이게"),        # jamo typed one by one
    ("ｓｉ발 이건", "시발 이건"),            # full-width latin, romanised syllable
    ("c발 짜증", "씨발 짜증"),
    ("씨이이이발", "씨발"),                 # drawn out
    ("씨바아아알", "씨발"),
    ("병시이인", "병신"),
    ("씨\u200b발", "씨발"),                 # zero-width space
    ("㉦㉥ 또", "ㅅㅂ 또"),                 # circled jamo
    ("ㅄ 같은", "ㅂㅅ 같은"),               # compound jamo split
])
def test_base_view(text: str, expected: str) -> None:
    assert views(text)[0].text == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("tlqkf 과제", "시발 과제"),            # 2-set keyboard, Korean input switched off
    ("WkdRo들", "짱깨들"),                  # shift for the tense consonants
    ("wnrduqjflsek", "죽여버린다"),
    ("씨 발 진짜", "씨발 진짜"),            # spaced single letters joined
    ("ㅆ ㅣ ㅂ ㅏ ㄹ 진짜", "씨발 진짜"),
    ("죽 여 버 린 다", "죽여버린다"),
])
def test_other_views(text: str, expected: str) -> None:
    assert expected in [v.text for v in views(text)]


def test_words_that_are_not_disguised_stay_as_they_are() -> None:
    for text in ("수박씨 발라 먹기", "KTX를 탔다", "1588-1234로 전화", "서울의 대표적인 관광지"):
        assert [v.text for v in views(text)][:1] == [text]


def test_offsets_point_into_the_original() -> None:
    text = "야 시1발 진짜"
    view = views(text)[0]
    start = view.text.index("시발")
    s, e = view.span(start, start + 2)
    assert text[s:e] == "시1발"


def test_compose_is_an_input_method() -> None:
    units = [(c, i, i + 1) for i, c in enumerate("ㄷㅏㄹㄱㅇㅣ")]  # 닭이: ㄺ stays a final before a consonant
    assert "".join(u[0] for u in compose_jamo(units)) == "닭이"


@pytest.mark.parametrize(("a", "b"), [("개새끼", "개색기"), ("개새끼", "개색히"), ("죽여", "쥭여"), ("씨발", "씨빨"),
                                      ("씨발", "씌발")])
def test_sound_alikes_share_a_skeleton(a: str, b: str) -> None:
    assert skeleton(a) == skeleton(b)


def test_abbreviations_never_match_inside_syllables() -> None:
    # ㅅㅂ written out is marked; the ㅅ ㅂ inside 잇바디 are not.
    assert skeleton("ㅅㅂ") not in skeleton("잇바디")
