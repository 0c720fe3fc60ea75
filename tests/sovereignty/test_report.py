"""The residency report from audit records, in Markdown and JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from jaju.audit.events import Event
from jaju.sovereignty.report import build_report, render_json, render_markdown


def rec(action: str, day: int, **fields) -> dict:
    return Event(action, tenant_id="ten_kr", fields=fields, ts=datetime(2026, 3, day, tzinfo=UTC)).to_record()


RECORDS = [
    rec("transfer.basis.add", 1, **{"from": "KR", "to": "EU", "basis": "PIPA 28-8(1)1 동의", "evidence": "동의서-17"}),
    rec("chat.completions", 2, jurisdiction="KR", backend="kr-vllm", model="qwen"),
    rec("chat.completions", 3, jurisdiction="KR", backend="kr-vllm", model="qwen"),
    rec("transfer.allowed", 4, **{"from": "KR", "to": "EU", "backend": "eu-llama", "model": "qwen",
                                  "basis": "PIPA 28-8(1)1 동의", "evidence": "동의서-17"}),
    rec("chat.completions", 4, jurisdiction="EU", backend="eu-llama", model="qwen"),
    rec("transfer.refused", 5, **{"from": "KR", "to": ["US"], "model": "big", "reason": "no legal basis recorded"}),
    rec("tenant.erase", 6),
]
STORAGE = {"jurisdiction": "KR", "store": "postgresql+psycopg://jaju@db.kr.internal/jaju"}


def test_report_aggregates():
    r = build_report(RECORDS, tenant_id="ten_kr", home="KR", storage=STORAGE)
    assert [(p["jurisdiction"], p["backend"], p["requests"]) for p in r["processing"]] == \
        [("KR", "kr-vllm", 2), ("EU", "eu-llama", 1)]
    assert r["transfers"] == [{"to": "EU", "basis": "PIPA 28-8(1)1 동의", "evidence": "동의서-17", "requests": 1}]
    assert r["refused"] == [{"to": "US", "requests": 1}]
    assert r["unexplained_abroad"] == [] and len(r["erasures"]) == 1
    assert json.loads(render_json(r)) == r


def test_since_filters_and_unexplained_processing_is_flagged():
    records = RECORDS[:3] + [rec("chat.completions", 9, jurisdiction="US", backend="us-1", model="qwen")]
    r = build_report(records, tenant_id="ten_kr", home="KR", storage=STORAGE,
                     since=datetime(2026, 3, 3, tzinfo=UTC))
    assert [(p["jurisdiction"], p["requests"]) for p in r["processing"]] == [("KR", 1), ("US", 1)]
    assert r["unexplained_abroad"] == ["US"]
    assert "**Warning:** processing in US" in render_markdown(r)


def test_markdown_shows_every_section():
    md = render_markdown(build_report(RECORDS, tenant_id="ten_kr", home="KR", storage=STORAGE))
    for fragment in ["# Residency report: tenant ten_kr", "| KR | kr-vllm | qwen | 2 |", "| EU | PIPA 28-8(1)1 동의 |",
                     "| US | 1 |", "Tenant erased", "Every request was processed at home or under a recorded"]:
        assert fragment in md
