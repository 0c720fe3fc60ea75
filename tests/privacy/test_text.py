"""normalize(): NFKC one character at a time, with every span mapped back to the original text."""

from __future__ import annotations

import unicodedata

from jaju.privacy.text import normalize

# A paragraph as Korean statutes and bills write it: circled numbers, a one-dot leader, corner brackets,
# a middle dot, a full-width phone number, a unit that NFKC spells with two letters (㎏), an en dash.
ARTICLE = ("｢개인정보 보호법｣ 제15조① 개인정보처리자는 정보주체의 동의를 받은 경우 개인정보를 수집할 수 있다. "
           "② 제1항에 따른 동의는 서면․전자문서ㆍ전화로 받는다. 문의: ０２–７８８–４６４９, 택배 무게 3㎏ 이하.")


def reference(text: str) -> str:
    """What normalize() promises, the slow way: dashes to '-', then NFKC of each character on its own."""
    dashes = str.maketrans({c: "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe63\uff0d"})
    return "".join(unicodedata.normalize("NFKC", c) for c in text.translate(dashes))


def test_a_statute_is_normalised_character_by_character():
    view = normalize(ARTICLE)
    assert view.text == reference(ARTICLE)
    assert "제15조1" in view.text and "서면.전자문서\u119e전화" in view.text and "02-788-4649" in view.text


def test_every_span_maps_back_to_the_characters_it_came_from():
    view = normalize(ARTICLE)
    assert "3kg" in view.text  # one original character became two
    start = view.text.index("02-788-4649")
    s, e = view.span(start, start + len("02-788-4649"))
    assert ARTICLE[s:e] == "０２–７８８–４６４９"
    kg = view.text.index("kg")
    assert view.span(kg, kg + 2) == (ARTICLE.index("㎏"), ARTICLE.index("㎏") + 1)
    after = view.text.index(" 이하")
    s, e = view.span(after + 1, after + 3)
    assert ARTICLE[s:e] == "이하"  # offsets after an expansion are shifted back


def test_text_seen_before_and_text_without_expansions_agree_with_the_reference():
    for text in (ARTICLE, ARTICLE, "① 제1항 ｢법｣", "가나다", "이메일 ｈｏｎｇ＠ｅｘａｍｐｌｅ．ｃｏｍ ½"):
        view = normalize(text)
        assert view.text == reference(text)
        if len(view.text) == len(text):  # one character for one: every offset maps to itself
            assert all(view.span(i, i + 1) == (i, i + 1) for i in range(len(text)))
        assert view.span(0, len(view.text)) == (0, len(text))
