"""Cutting a long document into chunks that fit: paragraphs, then Kiwi sentences, then spaces."""

from __future__ import annotations

import re

import pytest

from jaju.korean.chunks import Piece, pack, pieces

pytestmark = pytest.mark.anyio

DOC = ("제1조 이 법은 개인정보의 처리 및 보호에 관한 사항을 정합니다.\n"
       "제2조 개인정보란 살아 있는 개인에 관한 정보입니다. 성명과 주민등록번호가 그 예입니다. "
       "영상도 개인을 알아볼 수 있으면 개인정보입니다.\n"
       "제3조 개인정보처리자는 목적에 필요한 범위에서 최소한의 개인정보만을 처리해야 합니다.")


async def count(text: str) -> int:
    return len(text)  # one token per character: the counts are easy to check by hand


@pytest.fixture
def sentences(analyzer):
    return lambda text: [s for _, _, s in analyzer.sentences(text)]


async def test_paragraphs_that_fit_stay_whole(sentences):
    items = await pieces(DOC, count, sentences, budget=200)
    assert [p.text for p in items] == DOC.split("\n")
    chunks = pack(items, budget=200)
    assert all(c.tokens <= 200 for c in chunks) and "\n".join(c.text for c in chunks) == DOC


async def test_a_long_paragraph_is_cut_at_kiwi_sentences(sentences):
    items = await pieces(DOC, count, sentences, budget=40)
    second = [p.text for p in items if "개인정보란" in p.text or "성명과" in p.text or "영상도" in p.text]
    assert second == ["제2조 개인정보란 살아 있는 개인에 관한 정보입니다.", "성명과 주민등록번호가 그 예입니다.",
                      "영상도 개인을 알아볼 수 있으면 개인정보입니다."]
    chunks = pack(items, budget=40)
    assert len(chunks) > 3 and all(c.tokens <= 40 and len(c.text) <= 40 for c in chunks)
    # nothing lost or reordered: the chunks hold every character but the whitespace between pieces
    assert re.sub(r"\s", "", "".join(c.text for c in chunks)) == re.sub(r"\s", "", DOC)


async def test_a_sentence_longer_than_the_budget_is_cut_at_spaces(sentences):
    run_on = " ".join(["개인정보처리자는"] * 30)  # no sentence end at all
    items = await pieces(run_on, count, sentences, budget=50)
    assert len(items) > 1 and all(p.tokens <= 50 for p in items)
    assert " ".join(p.text for p in items) == run_on


async def test_character_limit_applies_besides_tokens(sentences):
    chunks = pack(await pieces(DOC, count, sentences, budget=1000, max_chars=60), budget=1000, max_chars=60)
    assert len(chunks) >= 3 and all(len(c.text) <= 60 for c in chunks)


def test_a_short_last_chunk_takes_pieces_from_the_one_before():
    items = [Piece("가" * 10, 10), Piece("나" * 10, 10), Piece("다" * 10, 10), Piece("라" * 3, 3)]
    assert [c.tokens for c in pack(items, budget=32)] == [32, 3]
    balanced = pack(items, budget=32, min_chars=12)
    assert [c.text for c in balanced] == ["가" * 10 + "\n" + "나" * 10, "다" * 10 + "\n" + "라" * 3]
    # never past the budget, and the chunk before keeps at least one piece
    assert [c.tokens for c in pack(items, budget=32, min_chars=100)] == [10, 25]
