"""Grounded prompts and citations: numbered sources in, citation spans out, pointing at the right text."""

from __future__ import annotations

import pytest

from jaju.knowledge.citations import Hit, build_grounded_messages, extract_citations
from tests.knowledge.test_service import CONSTITUTION


def _hit(n: int, text: str, start: int = 0, page: int | None = None, headings=()) -> Hit:
    return Hit("kb_1", f"doc_{n}", n, f"문서{n}.txt", f"문서 {n}", text, list(headings), page, start,
               start + len(text), 1.0 / n)


def test_grounded_messages_number_sources_and_leave_input_alone():
    messages = [{"role": "system", "content": "친절하게 답하세요."}, {"role": "user", "content": "대통령 임기는?"}]
    hits = [_hit(1, "대통령의 임기는 5년으로 한다.", page=3), _hit(2, "국회의원의 임기는 4년으로 한다.", headings=["제3장 국회"])]
    out = build_grounded_messages(messages, hits)
    assert messages[0]["content"] == "친절하게 답하세요."  # not mutated
    assert out[0]["content"].startswith("친절하게 답하세요.")
    assert "[1] (문서 1, p.3)\n대통령의 임기는 5년으로 한다." in out[0]["content"]
    assert "[2] (문서 2, 제3장 국회)" in out[0]["content"]
    assert out[1:] == messages[1:]
    no_system = build_grounded_messages(messages[1:], hits)
    assert no_system[0]["role"] == "system" and no_system[1] == messages[1]
    assert build_grounded_messages(messages, []) == messages


@pytest.mark.parametrize("answer,expected", [
    ("대통령의 임기는 5년입니다 [1].", [1]),
    ("국회의원은 4년[2], 대통령은 5년[1]입니다.", [2, 1]),
    ("둘 다 임기가 정해져 있습니다 [1, 2].", [1, 2]),
    ("전각 괄호도 씁니다【2】.", [2]),
    ("없는 번호 [7]와 [0]은 무시합니다.", []),
    ("인용이 없는 답변입니다.", []),
])
def test_markers_parsed_in_order_of_first_use(answer, expected):
    hits = [_hit(1, "대통령의 임기는 5년으로 한다."), _hit(2, "국회의원의 임기는 4년으로 한다.")]
    assert [c["index"] for c in extract_citations(answer, hits)] == expected


def test_quote_narrows_to_the_supporting_sentence():
    text = "대통령은 국가의 원수이다. 대통령의 임기는 5년으로 하며, 중임할 수 없다. 대통령은 취임에 즈음하여 선서한다."
    hit = _hit(1, text, start=100)
    [c] = extract_citations("대통령 임기는 5년이고 중임할 수 없습니다 [1].", [hit])
    assert c["quote"] == "대통령의 임기는 5년으로 하며, 중임할 수 없다."
    assert text[c["quote_start"] - 100:c["quote_end"] - 100] == c["quote"]
    assert (c["start"], c["end"]) == (100, 100 + len(text))


def test_grounded_answer_citations_point_at_the_right_spans(service):
    kb = service.create_kb("t_seoul", "헌법")
    [doc] = service.add_documents("t_seoul", kb.id, [("헌법.txt", CONSTITUTION.encode())])
    hits = service.search("t_seoul", [kb.id], "대통령과 대법원장의 임기는 각각 몇 년인가?", top_k=4)
    messages = build_grounded_messages([{"role": "user", "content": "대통령과 대법원장의 임기는?"}], hits)
    assert "[1]" in messages[0]["content"]
    number = {n: h for n, h in enumerate(hits, start=1)}
    president = next(n for n, h in number.items() if "대통령의 임기는 5년" in h.text)
    justice = next(n for n, h in number.items() if "대법원장의 임기는 6년" in h.text)
    # The answer an LLM would give from these sources (the live-model test belongs to the chat path).
    answer = f"대통령의 임기는 5년이며 중임할 수 없습니다[{president}]. 대법원장의 임기는 6년입니다[{justice}]."
    citations = extract_citations(answer, hits)
    assert [c["index"] for c in citations] == [president, justice]
    source = CONSTITUTION
    for c, phrase in zip(citations, ["대통령의 임기는 5년으로 하며", "대법원장의 임기는 6년으로 하며"]):
        assert c["document_id"] == doc.document["id"] and c["filename"] == "헌법.txt"
        assert phrase in source[c["quote_start"]:c["quote_end"]]
        assert source[c["start"]:c["end"]] == number[c["index"]].text
        assert c["section"] in ("제4장 정부", "제5장 법원") and c["score"] > 0
