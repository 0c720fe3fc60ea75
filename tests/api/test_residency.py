"""Residency in the chat path: a tenant from another jurisdiction fails closed until a legal basis is recorded."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from jaju.store.tables import AuditEvent

pytestmark = [pytest.mark.anyio, pytest.mark.engine]
MODEL = "qwen2.5-coder-0.5b-instruct"


async def test_foreign_tenant_needs_a_transfer_basis(api, services):
    tenant = services.tenants.create("사우디기관", "SA")
    _, secret = services.keys.create(tenant.id, ["inference"])
    body = {"model": MODEL, "max_tokens": 4, "temperature": 0, "messages": [{"role": "user", "content": "안녕하세요"}]}
    h = {"Authorization": f"Bearer {secret}"}

    models = (await api.get("/v1/models", headers=h)).json()["data"]
    assert all(m["jaju"]["permitted"] is False for m in models if m["jaju"]["jurisdiction"] == "KR")
    refused = await api.post("/v1/chat/completions", headers=h, json=body)
    assert refused.status_code == 503
    err = refused.json()["error"]
    assert err["code"] == "residency_unavailable" and "SA" in err["message"]
    emb = await api.post("/v1/embeddings", headers=h, json={"model": "multilingual-e5-small", "input": "안녕"})
    assert emb.status_code == 503

    services.sovereignty.transfers.add(tenant.id, "KR", "PDPL Art. 29 standard contractual clauses", "계약-2026-17")
    allowed = await api.post("/v1/chat/completions", headers=h, json=body)
    assert next(m for m in (await api.get("/v1/models", headers=h)).json()["data"]
                if m["id"] == MODEL)["jaju"]["permitted"] is True
    assert allowed.status_code == 200, allowed.text
    assert allowed.json()["jaju"]["jurisdiction"] == "KR"

    services.audit.flush()
    with services.db.sessions() as s:
        events = [json.loads(b) for b in s.scalars(select(AuditEvent.body).where(AuditEvent.tenant_id == tenant.id))]
    actions = [e["action"] for e in events]
    assert "transfer.refused" in actions and "transfer.allowed" in actions
    allowed_event = next(e for e in events if e["action"] == "transfer.allowed")
    assert allowed_event["basis"].startswith("PDPL Art. 29") and allowed_event["to"] == "KR"
