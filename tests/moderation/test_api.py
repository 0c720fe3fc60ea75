"""/v1/moderations with the official `openai` client against the in-process app (real auth, real Kiwi)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import openai
import pytest

from jaju.api import moderations
from jaju.app import ROUTERS, create_app
from jaju.cli.serve import bootstrap
from jaju.korean import KoreanAnalyzer
from jaju.moderation.categories import CATEGORIES, OPENAI_KEYS
from jaju.moderation.service import ModerationService
from jaju.privacy.factory import build_analyzer
from jaju.services import build_services
from tests.support import make_settings


@pytest.fixture(scope="module")
def app_and_key(tmp_path_factory: pytest.TempPathFactory, korean: KoreanAnalyzer):
    services = build_services(make_settings(Path(tmp_path_factory.mktemp("moderation"))))
    key = bootstrap(services)
    if not hasattr(services, "moderation"):  # until the service is wired into Services
        services.moderation = ModerationService(korean, build_analyzer(korean))
    app = create_app(services=services, load_models=False)
    if moderations.router not in ROUTERS:  # until the router is registered in app.py
        app.include_router(moderations.router)
    yield app, key
    services.audit.close()
    services.db.dispose()


def call(app_and_key, fn):
    app, key = app_and_key

    async def go():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://jaju.test") as http:
            client = openai.AsyncOpenAI(base_url="http://jaju.test/v1", api_key=key, http_client=http,
                                        max_retries=0)
            return await fn(client)

    return asyncio.run(go())


def test_openai_client_reads_korean_moderation(app_and_key) -> None:
    r = call(app_and_key, lambda c: c.moderations.create(
        model="jaju-moderation-ko", input=["씨발 이거 왜 또 안 돼", "시발점에서 종착역까지 한 시간 걸려요"]))
    assert r.model == "jaju-moderation-ko" and r.id.startswith("modr-")
    abusive, innocent = r.results
    assert abusive.flagged and abusive.categories.harassment and abusive.category_scores.harassment >= 0.5
    assert not innocent.flagged and innocent.category_scores.harassment == 0.0
    assert set(abusive.model_dump(by_alias=True)["categories"]) == set(OPENAI_KEYS)
    assert abusive.category_applied_input_types.harassment == ["text"]
    ext = abusive.model_extra["jaju"]
    assert ext["categories"]["profanity_insult"] is True and set(ext["category_scores"]) == set(CATEGORIES)


def test_single_string_and_openai_model_name(app_and_key) -> None:
    r = call(app_and_key, lambda c: c.moderations.create(model="omni-moderation-latest",
                                                          input="오늘 밤에 죽고 싶어 더는 못 버티겠어"))
    (res,) = r.results
    assert res.categories.self_harm and res.categories.self_harm_intent


def test_text_parts_are_accepted(app_and_key) -> None:
    r = call(app_and_key, lambda c: c.moderations.create(input=[{"type": "text", "text": "ㅅㅂ 또 야근이네"}]))
    assert r.results[0].flagged


@pytest.mark.parametrize(("body", "param"), [
    ({"input": []}, "input"),
    ({"input": "가" * 40_000}, "input"),
    ({"input": "안녕", "model": "gpt-4o"}, "model"),
])
def test_bad_input_gets_openai_errors(app_and_key, body: dict, param: str) -> None:
    app, key = app_and_key

    async def go():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://jaju.test") as http:
            return await http.post("/v1/moderations", json=body, headers={"Authorization": f"Bearer {key}"})

    r = asyncio.run(go())
    assert r.status_code in (400, 404)
    err = r.json()["error"]
    assert err["param"] == param and err["message"]


def test_needs_a_key(app_and_key) -> None:
    app, _ = app_and_key

    async def go():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://jaju.test") as http:
            return await http.post("/v1/moderations", json={"input": "안녕"})

    assert asyncio.run(go()).status_code == 401
