"""The /v1/privacy routes in-process, and `jaju privacy scan`."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from click.testing import CliRunner
from fastapi import FastAPI

from jaju.api import errors as api_errors
from jaju.api.auth import Principal
from jaju.api.privacy import require_privacy, router
from jaju.cli.privacy import privacy
from jaju.privacy.service import PrivacyService
from jaju.privacy.subjects import SubjectService


@pytest.fixture()
def app(service: PrivacyService, keys) -> FastAPI:
    app = FastAPI()
    app.include_router(router)
    api_errors.install(app)  # the API edge's one translation of domain errors

    audit = SimpleNamespace(append=lambda event: None)
    app.state.services = SimpleNamespace(privacy=service,
                                         subjects=SubjectService([service.vault], keys, audit,
                                                                 service.vault.subject_digest))
    app.dependency_overrides[require_privacy] = lambda: Principal("t-api", "api", "k1", frozenset({"privacy"}), "KR")
    return app


def call(app: FastAPI, method: str, url: str, **kw) -> httpx.Response:
    async def go() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
            return await c.request(method, url, **kw)

    return asyncio.run(go())


def test_analyze(app: FastAPI) -> None:
    text = "홍길동님 연락처 010-1234-5678"
    r = call(app, "POST", "/v1/privacy/analyze", json={"text": text, "language": "ko"})
    assert r.status_code == 200
    assert [(x["entity_type"], text[x["start"]:x["end"]]) for x in r.json()] == [
        ("PERSON", "홍길동"), ("KR_PHONE", "010-1234-5678")]


def test_analyze_rejects_unknown_language(app: FastAPI) -> None:
    r = call(app, "POST", "/v1/privacy/analyze", json={"text": "x", "language": "xx"})
    assert r.status_code == 400 and r.json()["error"]["param"] == "language"


def test_anonymize(app: FastAPI) -> None:
    r = call(app, "POST", "/v1/privacy/anonymize", json={
        "text": "주민번호 900101-1234568, 홍길동님",
        "anonymizers": {"KR_RRN": {"type": "mask"}, "DEFAULT": {"type": "replace"}}})
    assert r.status_code == 200
    assert r.json()["text"] == "주민번호 900101-1******, <PERSON>님"


def test_subject_routes(app: FastAPI, service: PrivacyService) -> None:
    from jaju.privacy.policy import PrivacyPolicy

    service.protect("t-api", [{"role": "user", "content": "김민수 고객님"}], PrivacyPolicy(), "conv-api",
                    subject="s-1")
    r = call(app, "GET", "/v1/privacy/subjects/s-1/export")
    assert r.json()["data"]["privacy_vault"]["pseudonyms"][0]["value"] == "김민수"
    r = call(app, "DELETE", "/v1/privacy/subjects/s-1")
    assert r.json()["deleted"] == {"privacy_vault": 1}


def test_cli_scan(tmp_path: Path) -> None:
    f = tmp_path / "memo.txt"
    f.write_text("고객 홍길동님\n연락처: 010-1234-5678\n주문번호 2024051234567\n", encoding="utf-8")
    result = CliRunner().invoke(privacy, ["scan", str(f), "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [(r["line"], r["entity_type"]) for r in rows] == [(1, "PERSON"), (2, "KR_PHONE")]
    assert "010-1234-5678" not in result.output
    table = CliRunner().invoke(privacy, ["scan", str(f)])
    assert "KR_PHONE" in table.output and table.exit_code == 0
