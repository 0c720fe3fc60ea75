"""Grounded answers: upload Korean documents over the API, ask with knowledge_bases, get citations."""

from __future__ import annotations

import openai
import pytest

pytestmark = [pytest.mark.anyio, pytest.mark.engine]
MODEL = "qwen2.5-coder-0.5b-instruct"
DOC = """# 자주시 청년 주거 지원 조례

제1조(목적) 이 조례는 자주시에 거주하는 청년의 주거 안정을 위하여 필요한 사항을 정한다.

제2조(지원 대상) 지원 대상은 자주시에 주민등록을 둔 만 19세 이상 39세 이하의 무주택 청년으로 한다.

제3조(월세 지원) 시장은 지원 대상에게 매월 20만원의 월세를 최대 12개월 동안 지원할 수 있다.
"""
OTHER = "# 자주시 공원 관리 규칙\n\n제1조 공원의 개방 시간은 오전 6시부터 오후 10시까지로 한다.\n"


def auth(services):
    return {"Authorization": f"Bearer {services.admin_secret}"}


async def test_answer_cites_the_right_document_and_span(api, services):
    kb = await api.post("/v1/knowledge-bases", headers=auth(services), json={"name": "자주시 조례"})
    assert kb.status_code == 201, kb.text
    kb_id = kb.json()["id"]
    up = await api.post(f"/v1/knowledge-bases/{kb_id}/documents", headers=auth(services),
                        files=[("files", ("청년주거조례.md", DOC.encode(), "text/markdown")),
                               ("files", ("공원규칙.md", OTHER.encode(), "text/markdown"))])
    assert up.status_code == 200, up.text
    r = await api.post("/v1/chat/completions", headers=auth(services), json={
        "model": MODEL, "temperature": 0, "max_tokens": 60,
        "messages": [{"role": "user", "content": "자주시 청년 월세 지원은 한 달에 얼마인가요?"}],
        "jaju": {"knowledge_bases": [kb_id], "knowledge_top_k": 2}})
    assert r.status_code == 200, r.text
    body = r.json()
    # the OpenAI client still parses the response; citations live in the jaju extension
    parsed = openai.types.chat.ChatCompletion.model_validate(body)
    assert parsed.choices[0].message.content
    citations = body["jaju"]["citations"]
    assert citations, body["choices"][0]["message"]["content"]
    first = citations[0]
    assert first["filename"] == "청년주거조례.md"
    assert first["start"] < first["end"] and first["quote_start"] <= first["quote_end"]
    # the cited span really is the passage on monthly rent
    assert "월세" in DOC[first["start"]:first["end"]] or "월세" in first["quote"]


async def test_unknown_or_foreign_knowledge_base_is_404(api, services):
    r = await api.post("/v1/chat/completions", headers=auth(services), json={
        "model": MODEL, "max_tokens": 4, "messages": [{"role": "user", "content": "안녕"}],
        "jaju": {"knowledge_bases": ["kb_doesnotexist"]}})
    assert r.status_code == 404 and r.json()["error"]["code"] == "knowledge_base_not_found"
