"""Chunking: sentence-aligned, token-budgeted, overlapping, with headings and exact source spans."""

from __future__ import annotations

import pytest

from jaju.knowledge.chunking import Chunker, approx_tokens
from jaju.knowledge.parsers import parse_document
from jaju.knowledge.terms import KiwiTerms, WhitespaceTerms
from tests.knowledge.test_service import CONSTITUTION


@pytest.mark.parametrize("budget,overlap", [(40, 0), (60, 15), (200, 40)])
def test_chunks_respect_budget_overlap_and_spans(analyzer, embedder, budget, overlap):
    doc = parse_document("헌법.txt", CONSTITUTION.encode())
    chunks = Chunker(analyzer, embedder.token_count, budget, overlap).chunk(doc)
    assert chunks
    for c in chunks:
        assert doc.text[c.start:c.end] == c.text
        assert c.tokens <= budget
    covered = set()
    for c in chunks:
        covered.update(range(c.start, c.end))
    body = {i for i, ch in enumerate(doc.text) if not ch.isspace()}
    assert body <= covered  # no text is lost
    if overlap == 0:
        assert all(b.start >= a.end for a, b in zip(chunks, chunks[1:]))


def test_consecutive_chunks_share_whole_sentences(analyzer):
    sentences = [f"제{n}항 공무원은 법률이 정하는 바에 따라 {n}일 이내에 신고하여야 한다." for n in range(1, 30)]
    doc = parse_document("규정.txt", " ".join(sentences).encode())
    chunks = Chunker(analyzer, approx_tokens, 80, 30).chunk(doc)
    assert len(chunks) > 3
    for a, b in zip(chunks, chunks[1:]):
        assert a.start < b.start < a.end  # overlap, and progress
        shared = doc.text[b.start:a.end].strip()
        assert shared in sentences or shared.endswith("한다.")


def test_headings_travel_with_each_chunk(analyzer):
    doc = parse_document("헌법.txt", CONSTITUTION.encode())
    chunks = Chunker(analyzer, approx_tokens, 40, 0).chunk(doc)
    president = next(c for c in chunks if "대통령의 임기는" in c.text)
    assert president.headings == ("제4장 정부",)
    assert president.context("대한민국헌법").startswith("대한민국헌법")


def test_overlong_sentence_is_cut(analyzer):
    doc = parse_document("긴.txt", ("가나다라마바사 " * 200).encode())
    chunks = Chunker(analyzer, approx_tokens, 50, 10).chunk(doc)
    assert len(chunks) > 5 and all(c.tokens <= 50 for c in chunks)


@pytest.mark.parametrize("text,present", [
    ("대통령의 임기는", ["대통령", "임기"]),
    ("국민투표에 부친다", ["국민", "투표", "국민투표"]),
    ("헌법재판소 재판관", ["헌법", "재판소", "헌법재판소", "재판관"]),
    ("지방공무원법 일부개정법률안", ["지방", "공무원법", "지방공무원법", "법률안"]),
])
def test_kiwi_terms_drop_particles_and_join_compounds(analyzer, text, present):
    terms = KiwiTerms(analyzer).terms(text)
    for t in present:
        assert t in terms
    assert "의" not in terms and "는" not in terms and "에" not in terms


def test_whitespace_terms_keep_particles():
    assert WhitespaceTerms().terms("대통령의 임기는") == ["대통령의", "임기는"]
