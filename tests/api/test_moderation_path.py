"""Moderation in the chat path, by the tenant's packs: an operator pack that blocks profanity on input
refuses the request with 422 naming the category (never the word), and a pack that only flags lets
it through with the category in the `jaju` object and the audit event."""

from __future__ import annotations

import json

import httpx
import pytest
from sqlalchemy import select

from jaju.app import create_app
from jaju.cli.serve import bootstrap
from jaju.services import build_services
from jaju.store.tables import AuditEvent
from tests.support import close_services, link_models, make_settings

pytestmark = [pytest.mark.anyio, pytest.mark.engine]
MODEL = "qwen2.5-coder-0.5b-instruct"
HOUSE = """\
id: house_moderation
title: House moderation rules
law: 사내 이용 지침
jurisdiction: KR
version: "2026-12"
source: https://intranet.example/moderation
moderation:
  profanity_insult: {{input: {action}, output: flag, article: "§ 2"}}
"""
RUDE = "씨발 이 서비스 왜 이렇게 느려? 대한민국의 수도만 알려줘."


async def _serve(tmp_path, qwen_gguf, action: str):
    pack = tmp_path / "house.yaml"
    pack.write_text(HOUSE.format(action=action), encoding="utf-8")
    link_models(tmp_path, qwen_gguf)
    services = build_services(make_settings(tmp_path, compliance={"extra_packs": [str(pack)],
                                                                  "always": ["house_moderation"]}))
    secret = bootstrap(services)
    services.load_models()
    return services, secret


async def _chat(services, secret, text: str) -> httpx.Response:
    app = create_app(services=services, load_models=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://jaju.test",
                                 headers={"Authorization": f"Bearer {secret}"}) as api:
        return await api.post("/v1/chat/completions", json={
            "model": MODEL, "max_tokens": 12, "temperature": 0, "messages": [{"role": "user", "content": text}]})


async def test_blocking_pack_refuses_with_the_category_only(tmp_path, qwen_gguf):
    services, secret = await _serve(tmp_path, qwen_gguf, "block")
    try:
        r = await _chat(services, secret, RUDE)
        assert r.status_code == 422, r.text
        error = r.json()["error"]
        assert error["code"] == "content_blocked" and "profanity_insult" in error["message"]
        assert "씨발" not in r.text
        polite = await _chat(services, secret, "대한민국의 수도는 어디인가요?")
        assert polite.status_code == 200, polite.text
        assert "moderation" not in polite.json()["jaju"]
        with services.db.sessions() as s:
            statuses = [json.loads(b)["status"] for b in s.scalars(
                select(AuditEvent.body).where(AuditEvent.action == "chat.completions"))]
        assert 422 in statuses and 200 in statuses
    finally:
        close_services(services)


async def test_flagging_pack_answers_and_records_the_category(tmp_path, qwen_gguf):
    services, secret = await _serve(tmp_path, qwen_gguf, "flag")
    try:
        r = await _chat(services, secret, RUDE)
        assert r.status_code == 200, r.text
        assert r.json()["jaju"]["moderation"]["input"] == {"action": "flag", "categories": ["profanity_insult"]}
        with services.db.sessions() as s:
            body = next(b for b in s.scalars(select(AuditEvent.body).where(AuditEvent.action == "chat.completions")))
        assert json.loads(body)["moderation"]["input"]["categories"] == ["profanity_insult"]
        assert "씨발" not in body
    finally:
        close_services(services)
