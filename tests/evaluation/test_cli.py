"""`jaju eval run` and `jaju eval compare` through click's CliRunner, with the real default model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from jaju.cli.main import cli
from jaju.engine.catalog import QWEN
from jaju.evaluation import load_questions
from jaju.evaluation.loglik import LoglikScorer
from jaju.evaluation.dataset import Question
from tests.support import link_models

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "eval_ko_sample.csv"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory, qwen_gguf) -> Path:
    d = tmp_path_factory.mktemp("eval")
    link_models(d, qwen_gguf)
    return d


def invoke(data_dir: Path, *args: str):
    return CliRunner().invoke(cli, ["--data-dir", str(data_dir), "eval", *args], catch_exceptions=False)


@pytest.mark.engine
def test_run_scores_the_sample_by_log_likelihood_and_writes_a_report(data_dir, tmp_path):
    out = tmp_path / "qwen.json"
    result = invoke(data_dir, "run", str(SAMPLE), "--model", QWEN.name, "--limit", "5", "--threads", "2",
                    "-o", str(out))
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["method"] == "loglik" and report["questions"] == 5
    items = report["items"]
    expected = load_questions(SAMPLE)[:5]
    assert [i["answer"] for i in items] == [q.answer for q in expected]
    for item in items:  # every choice got a real log-probability and the pick is the most likely one
        assert len(item["scores"]) == 4 and all(s < 0 for s in item["scores"])
        assert item["picked"] == max(range(4), key=lambda k: item["scores"][k])
        assert item["correct"] == (item["picked"] == item["answer"])
    assert report["correct"] == sum(i["correct"] for i in items)
    per = report["categories"]
    assert sum(c["questions"] for c in per.values()) == 5
    assert "overall" in result.output and "Korean-Geography" in result.output
    assert not list(tmp_path.glob(".qwen.json.*"))  # no temporary file left behind


@pytest.mark.engine
def test_loglik_matches_reading_one_token_at_a_time(qwen_gguf):
    """The prompt-once, continuations-after shortcut gives the same sums as reading prompt + choice token by token.

    (llama.cpp's CPU kernels for batches of 8+ tokens round differently, up to ~0.1 nat per token on this
    Q4_K_M model, so the reference reads one token per batch and the prompt here is shorter than 8 tokens.)
    """
    q = Question(id="t", category="t", prompt="대한민국의 수도는", continuations=(" 서울입니다.", " 부산광역시입니다."),
                 answer=0)
    with LoglikScorer(str(qwen_gguf), threads=2, n_ctx=512) as scorer:
        fast = scorer.choice_logprobs(q)
        prompt = scorer.tokenize(q.prompt, add_bos=False)
        assert len(prompt) < 8
        for cont_text, got in zip(q.continuations, fast):
            cont = scorer.tokenize(cont_text, add_bos=False)
            assert len(cont) > 1
            scorer.reset()
            seq = prompt + cont
            rows = [scorer.read([t], pos)[0] for pos, t in enumerate(seq[:-1])]
            want = sum(float(rows[len(prompt) - 1 + i][t]) for i, t in enumerate(cont))
            assert got == pytest.approx(want, abs=1e-3)
        assert fast[0] > fast[1]  # the capital is Seoul


def test_bad_file_exits_1_naming_the_line_and_writes_nothing(data_dir, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("question,answer,A,B,C,D,Category\n수도는?,1,서울,부산,대구,광주,지리\n수도는?,7,서울,부산,대구,광주,지리\n",
                   encoding="utf-8")
    out = tmp_path / "r.json"
    result = CliRunner().invoke(cli, ["--data-dir", str(data_dir), "eval", "run", str(bad), "--model", QWEN.name,
                                      "-o", str(out)])
    assert result.exit_code == 1
    assert "line 3: answer must be 1-4" in result.output and "Traceback" not in result.output
    assert not out.exists()


def test_unknown_model_is_a_plain_error(data_dir, tmp_path):
    result = CliRunner().invoke(cli, ["--data-dir", str(data_dir), "eval", "run", str(SAMPLE), "--model", "없는-모델",
                                      "-o", str(tmp_path / "r.json")])
    assert result.exit_code == 1 and "No local model named 없는-모델" in result.output


def report(model: str, cats: dict[str, tuple[int, int]]) -> dict:
    correct, n = sum(c for c, _ in cats.values()), sum(k for _, k in cats.values())
    return {"model": model, "source": "kmmlu.csv", "method": "loglik", "questions": n, "correct": correct,
            "accuracy": correct / n, "categories": {k: {"questions": m, "correct": c, "accuracy": c / m}
                                                     for k, (c, m) in cats.items()}, "items": []}


def test_compare_puts_two_runs_side_by_side(tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps(report("qwen", {"Law": (1, 4), "Math": (2, 4)})), encoding="utf-8")
    b.write_text(json.dumps(report("gemma", {"Law": (3, 4), "Korean-History": (1, 2)})), encoding="utf-8")
    result = CliRunner().invoke(cli, ["eval", "compare", str(a), str(b)])
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line for line in result.output.splitlines() if line.strip()}
    assert "25.0% (1/4)" in lines["Law"] and "75.0% (3/4)" in lines["Law"] and "+50.0 pt" in lines["Law"]
    assert lines["Math"].split()[-1] == "-"  # only in A
    assert "37.5% (3/8)" in lines["overall"] and "66.7% (4/6)" in lines["overall"]
    assert "A: qwen" in result.output and "B: gemma" in result.output


def test_compare_refuses_a_file_that_is_not_a_report(tmp_path):
    a = tmp_path / "a.json"
    a.write_text(json.dumps(report("qwen", {"Law": (1, 4)})), encoding="utf-8")
    junk = tmp_path / "junk.json"
    junk.write_text("[1, 2]", encoding="utf-8")
    result = CliRunner().invoke(cli, ["eval", "compare", str(a), str(junk)])
    assert result.exit_code == 1 and "is not a jaju eval report" in result.output
