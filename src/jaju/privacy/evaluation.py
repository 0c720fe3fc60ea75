"""Precision, recall and F1 per entity type for labelled spans (used by tests and benchmarks)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

# A prediction matches a gold span of the same type when they overlap this much (intersection over union).
MIN_IOU = 0.8


@dataclass(slots=True)
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass(slots=True)
class Report:
    per_entity: dict[str, Counts] = field(default_factory=dict)

    def add(self, entity: str, tp: int = 0, fp: int = 0, fn: int = 0) -> None:
        c = self.per_entity.setdefault(entity, Counts())
        c.tp += tp
        c.fp += fp
        c.fn += fn

    def table(self) -> str:
        lines = [f"{'entity':<18}{'gold':>6}{'tp':>6}{'fp':>6}{'fn':>6}{'P':>8}{'R':>8}{'F1':>8}"]
        for e in sorted(self.per_entity):
            c = self.per_entity[e]
            lines.append(f"{e:<18}{c.tp + c.fn:>6}{c.tp:>6}{c.fp:>6}{c.fn:>6}"
                         f"{c.precision:>8.3f}{c.recall:>8.3f}{c.f1:>8.3f}")
        return "\n".join(lines)


Span = tuple[int, int, str]


def load_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _iou(a: Span, b: Span) -> float:
    inter = min(a[1], b[1]) - max(a[0], b[0])
    if inter <= 0:
        return 0.0
    return inter / (max(a[1], b[1]) - min(a[0], b[0]))


def evaluate(rows: Iterable[dict], predict: Callable[[str], list[Span]],
             entities: Iterable[str] | None = None) -> Report:
    """Score `predict(text) -> [(start, end, entity)]` against each row's gold spans."""
    wanted = set(entities) if entities is not None else None
    report = Report()
    for row in rows:
        gold = [(s["start"], s["end"], s["entity"]) for s in row["spans"]]
        pred = list(predict(row["text"]))
        if wanted is not None:
            gold = [g for g in gold if g[2] in wanted]
            pred = [p for p in pred if p[2] in wanted]
        used: set[int] = set()
        for g in gold:
            hit = next((i for i, p in enumerate(pred)
                        if i not in used and p[2] == g[2] and _iou(p, g) >= MIN_IOU), None)
            if hit is None:
                report.add(g[2], fn=1)
            else:
                used.add(hit)
                report.add(g[2], tp=1)
        for i, p in enumerate(pred):
            if i not in used:
                report.add(p[2], fp=1)
    return report
