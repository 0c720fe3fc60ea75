"""Running a set through a scorer, accuracy per category, the JSON report (written atomically), comparisons."""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Protocol

from jaju.errors import JajuError
from jaju.evaluation.dataset import Question


class Scorer(Protocol):
    method: str

    def predict(self, q: Question) -> tuple[int, list[float]]: ...


def run_eval(questions: list[Question], scorer: Scorer, *, model: str, source: str,
             on_item: Callable[[], None] | None = None) -> dict[str, Any]:
    """Score every question; the report holds overall and per-category accuracy and each item's choice."""
    started = time.perf_counter()
    items: list[dict[str, Any]] = []
    per: dict[str, list[int]] = defaultdict(lambda: [0, 0])  # category -> [correct, asked]
    for q in questions:
        picked, scores = scorer.predict(q)
        ok = picked == q.answer
        per[q.category][0] += ok
        per[q.category][1] += 1
        items.append({"id": q.id, "category": q.category, "answer": q.answer, "picked": picked, "correct": ok,
                      "scores": [round(s, 4) for s in scores]})
        if on_item is not None:
            on_item()
    correct = sum(c for c, _ in per.values())
    return {
        "model": model, "source": source, "method": scorer.method, "questions": len(items),
        "correct": correct, "accuracy": round(correct / len(items), 4) if items else 0.0,
        "categories": {cat: {"questions": n, "correct": c, "accuracy": round(c / n, 4)}
                       for cat, (c, n) in sorted(per.items())},
        "seconds": round(time.perf_counter() - started, 1), "items": items,
    }


def write_report(report: dict[str, Any], path: Path) -> None:
    """Write to a temporary file beside the target, then rename: a reader never sees half a report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(report, f, ensure_ascii=False, indent=2)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_report(path: Path) -> dict[str, Any]:
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise JajuError(f"{path} is not a jaju eval report: {e}.") from None
    if not isinstance(report, dict) or "categories" not in report or "accuracy" not in report:
        raise JajuError(f"{path} is not a jaju eval report (no accuracy or categories).")
    return report


def compare_rows(a: dict[str, Any], b: dict[str, Any]) -> Iterable[tuple[str, str, str, str]]:
    """(category, A, B, B - A) rows, categories of both runs, then the overall line."""
    def cell(r: dict, cat: str | None) -> tuple[str, float | None]:
        entry = r if cat is None else r["categories"].get(cat)
        if entry is None:
            return "-", None
        n = entry.get("questions", 0)
        return f"{entry['accuracy']:.1%} ({entry.get('correct', 0)}/{n})", entry["accuracy"]

    for cat in sorted(set(a["categories"]) | set(b["categories"])) + [None]:
        (ta, va), (tb, vb) = cell(a, cat), cell(b, cat)
        delta = f"{(vb - va) * 100:+.1f} pt" if va is not None and vb is not None else "-"
        yield ("overall" if cat is None else cat), ta, tb, delta
