"""Quality floors on the labelled Korean set (tests/data/pii_ko.jsonl); precision and recall, not speed."""

from __future__ import annotations

from pathlib import Path

import pytest

from jaju.privacy.analyzer import Analyzer
from jaju.privacy.evaluation import Report, evaluate, load_jsonl

DATA = Path(__file__).resolve().parents[1] / "data" / "pii_ko.jsonl"
STRUCTURED = ("KR_RRN", "KR_FRN", "KR_PASSPORT", "KR_DRIVER_LICENSE", "KR_BRN", "KR_CRN", "KR_PHONE",
              "KR_BANK_ACCOUNT", "CREDIT_CARD", "EMAIL", "IP_ADDRESS", "IBAN", "SA_NATIONAL_ID")


@pytest.fixture(scope="module")
def report(analyzer: Analyzer) -> Report:
    rows = load_jsonl(DATA)
    assert len(rows) >= 300
    return evaluate(rows, lambda t: [(r.start, r.end, r.entity_type) for r in analyzer.analyze(t)])


@pytest.mark.parametrize("entity", STRUCTURED)
def test_structured_f1(report: Report, entity: str) -> None:
    assert report.per_entity[entity].f1 >= 0.95, report.table()


@pytest.mark.parametrize("entity", ["PERSON", "KR_ADDRESS"])
def test_names_and_addresses_f1(report: Report, entity: str) -> None:
    assert report.per_entity[entity].f1 >= 0.85, report.table()


def test_near_misses_stay_clean(analyzer: Analyzer) -> None:
    rows = [r for r in load_jsonl(DATA) if not r["spans"]]
    assert len(rows) >= 40
    noisy = [r["text"] for r in rows if analyzer.analyze(r["text"])]
    assert noisy == []
