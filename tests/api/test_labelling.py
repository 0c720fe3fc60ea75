"""Every generated response is labelled: header, jaju object, signed manifest; EU tenants get the watermark."""

from __future__ import annotations

import json

import pytest

pytestmark = [pytest.mark.anyio, pytest.mark.engine]
MODEL = "qwen2.5-coder-0.5b-instruct"
QUESTION = [{"role": "user", "content": "대한민국의 수도는 어디인가요?"}]


def auth(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


async def verify(api, secret, content, manifest):
    r = await api.post("/v1/provenance/verify", headers=auth(secret), json={"content": content, "manifest": manifest})
    assert r.status_code == 200, r.text
    return r.json()


async def test_non_streamed_response_is_labelled_and_signed(api, services):
    secret = services.admin_secret
    r = await api.post("/v1/chat/completions", headers=auth(secret),
                       json={"model": MODEL, "max_tokens": 16, "temperature": 0, "messages": QUESTION})
    assert r.status_code == 200
    assert "ai-generated" in r.headers["x-jaju-ai-generated"] and 'jurisdiction="KR"' in r.headers["x-jaju-ai-generated"]
    body = r.json()
    jaju, content = body["jaju"], body["choices"][0]["message"]["content"]
    assert jaju["ai_generated"] is True and jaju["weights_sha256"].startswith("1d9614")
    assert jaju["notices"]["ko"] and jaju["notices"]["en"]  # PIPA + AI Basic Act disclosures
    assert (await verify(api, secret, content, jaju["provenance"]))["valid"] is True
    tampered = content[:-1] + ("다" if content[-1] != "다" else "요")
    result = await verify(api, secret, tampered, jaju["provenance"])
    assert result["valid"] is False and any("hash" in p or "content" in p for p in result["problems"])


async def test_streamed_response_is_labelled_and_signed(api, services):
    secret = services.admin_secret
    async with api.stream("POST", "/v1/chat/completions", headers=auth(secret), json={
            "model": MODEL, "max_tokens": 16, "temperature": 0, "stream": True, "messages": QUESTION}) as r:
        assert "ai-generated" in r.headers["x-jaju-ai-generated"]  # before the first byte
        chunks = [json.loads(line[6:]) async for line in r.aiter_lines() if line.startswith("data: {")]
    content = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c.get("choices"))
    final = next(c for c in chunks if c.get("jaju"))
    assert (await verify(api, secret, content, final["jaju"]["provenance"]))["valid"] is True


async def test_eu_tenant_output_carries_the_watermark(api, services):
    tenant = services.tenants.create("유럽은행", "EU")  # GDPR + AI Act; KR is adequate for GDPR Art. 45
    _, secret = services.keys.create(tenant.id, ["inference"])
    r = await api.post("/v1/chat/completions", headers=auth(secret), json={
        "model": MODEL, "max_tokens": 48, "temperature": 0.7, "seed": 7,
        "messages": [{"role": "user", "content": "Describe Seoul in three sentences."}]})
    assert r.status_code == 200, r.text
    jaju = r.json()["jaju"]
    assert jaju["watermark"] == "green-list-v1" and 'watermark="green-list-v1"' in r.headers["x-jaju-ai-generated"]
    models = (await api.get("/v1/models", headers=auth(secret))).json()["data"]
    assert models[0]["jaju"]  # notices to show before use travel with the model list
    detect = await api.post("/v1/watermark/detect", headers=auth(secret),
                            json={"text": r.json()["choices"][0]["message"]["content"], "model": MODEL})
    assert detect.status_code == 200 and detect.json()["z"] > 0
    # the KR engine served an EU tenant: allowed by GDPR Art. 45 adequacy, and audited with that basis
    services.audit.flush()
    from sqlalchemy import select

    from jaju.store.tables import AuditEvent
    with services.db.sessions() as s:
        bodies = [json.loads(b) for b in s.scalars(select(AuditEvent.body).where(
            AuditEvent.tenant_id == tenant.id, AuditEvent.action == "transfer.allowed"))]
    assert bodies and bodies[0]["to"] == "KR" and "adequacy" in bodies[0]["basis"]
