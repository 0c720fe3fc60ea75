"""Monthly token quotas per tenant: the partner platform's spending cap."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.anyio, pytest.mark.engine]
MODEL = "qwen2.5-coder-0.5b-instruct"


async def test_quota_stops_a_tenant_when_used_up(api, services):
    admin = {"Authorization": f"Bearer {services.admin_secret}"}
    created = await api.post("/admin/tenants", headers=admin, json={"name": "스타트업", "jurisdiction": "KR"})
    tenant = created.json()
    key = (await api.post("/admin/keys", headers=admin, json={"tenant": tenant["id"]})).json()["secret"]
    r = await api.put(f"/admin/tenants/{tenant['id']}/quota", headers=admin, json={"monthly_tokens": 30})
    assert r.status_code == 200 and r.json()["settings"]["monthly_token_quota"] == 30

    h = {"Authorization": f"Bearer {key}"}
    body = {"model": MODEL, "max_tokens": 4, "messages": [{"role": "user", "content": "안녕하세요"}]}
    first = await api.post("/v1/chat/completions", headers=h, json=body)
    assert first.status_code == 200  # about 35 tokens: the quota is now spent
    second = await api.post("/v1/chat/completions", headers=h, json=body)
    assert second.status_code == 429 and second.json()["error"]["code"] == "quota_exceeded"
    emb = await api.post("/v1/embeddings", headers=h, json={"model": "multilingual-e5-small", "input": "안녕"})
    assert emb.status_code == 429

    await api.put(f"/admin/tenants/{tenant['id']}/quota", headers=admin, json={"monthly_tokens": 0})
    assert (await api.post("/v1/chat/completions", headers=h, json=body)).status_code == 200
