"""Reading KMMLU, CLIcK and HAE-RAE files, and refusing bad ones with the line named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jaju.evaluation import EvalFileError, load_questions

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "eval_ko_sample.csv"


def test_kmmlu_sample_loads_with_categories():
    qs = load_questions(SAMPLE)
    assert len(qs) == 32
    assert {q.category for q in qs} >= {"Korean-History", "Korean-Language", "Law"}
    first = qs[0]
    assert first.prompt == "대한민국의 수도는 어디인가?\nA. 부산\nB. 서울\nC. 인천\nD. 대전\n정답:"
    assert first.continuations == (" A", " B", " C", " D") and first.answer == 1  # answer column 2 -> B


def test_click_json_array(tmp_path):
    items = [{"id": "KIIP_law_8", "paragraph": "", "question": "한국에서는 한 사건에 대해 몇 번까지 재판을 받을 수 있는가?",
              "choices": ["1번", "2번", "3번", "4번"], "answer": "3번"},
             {"id": "CSAT_korean_3", "paragraph": "봄이 오면 산에 진달래가 핀다.", "question": "윗글에서 피는 꽃은?",
              "choices": ["개나리", "진달래", "무궁화", "장미"], "answer": "진달래"}]
    path = tmp_path / "click.json"
    path.write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
    qs = load_questions(path)
    assert [q.answer for q in qs] == [2, 1]
    assert [q.category for q in qs] == ["KIIP_law", "CSAT_korean"]
    assert qs[1].prompt.startswith("맥락: 봄이 오면 산에 진달래가 핀다.\n윗글에서 피는 꽃은?\nA. 개나리")


def test_haerae_jsonl(tmp_path):
    rows = [{"query": "다음 중 '컴퓨터'의 올바른 표기는?\n(A) 컴퓨타\n(B) 컴퓨터\n(C) 콤퓨터\n(D) 컴퓨떠\n(E) 컴뷰터\n### 정답:",
             "answer": "(B)", "category": "loan_words"},
             {"query": "'가랑비에 옷 젖는 줄 모른다'의 뜻은?", "options": ["작은 것도 쌓이면 크다", "비가 온다", "옷이 젖었다"],
              "answer": "(A)"}]
    path = tmp_path / "haerae.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    qs = load_questions(path)
    assert qs[0].continuations == (" (A)", " (B)", " (C)", " (D)", " (E)") and qs[0].answer == 1
    assert qs[0].category == "loan_words" and qs[0].prompt.endswith("### 정답:")
    assert qs[1].continuations == (" (A)", " (B)", " (C)") and "(C) 옷이 젖었다" in qs[1].prompt
    assert qs[1].category == "haerae"


BAD = [
    ("missing.csv", "question,answer,A,B,C,Category\n수도는?,1,서울,부산,대구,지리\n", "line 1: the header lacks D"),
    ("range.csv", "question,answer,A,B,C,D,Category\n수도는?,1,서울,부산,대구,광주,지리\n수도는?,5,서울,부산,대구,광주,지리\n",
     "line 3: answer must be 1-4"),
    ("word.csv", "question,answer,A,B,C,D,Category\n수도는?,B,서울,부산,대구,광주,지리\n", "line 2: answer must be 1-4"),
    ("empty.csv", "question,answer,A,B,C,D,Category\n,1,서울,부산,대구,광주,지리\n", "line 2: question is empty"),
    ("click.jsonl", '{"question": "수도는?", "choices": ["서울", "부산"], "answer": "서울"}\n'
                    '{"question": "수도는?", "choices": ["서울", "부산"], "answer": "대전"}\n',
     "line 2: answer '대전' is not one of the choices"),
    ("nochoices.jsonl", '{"question": "수도는?", "answer": "서울"}\n', "line 1: missing choices"),
    ("haerae.jsonl", '{"query": "수도는?", "answer": "(F)"}\n', "line 1: answer must be one of (A)"),
    ("broken.jsonl", '{"query": "수도는?", "answer": "(A)"}\n{"query": \n', "line 2: not valid JSON"),
]


@pytest.mark.parametrize(("name", "content", "message"), BAD, ids=[b[0] for b in BAD])
def test_bad_files_name_the_line(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(EvalFileError) as e:
        load_questions(path)
    assert message in str(e.value) and str(path) in str(e.value)
