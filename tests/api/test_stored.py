"""Kept messages (`store: true`): encrypted at rest, tenant-scoped, exported and erased with the subject."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from jaju.conversations.tables import StoredCompletion

pytestmark = [pytest.mark.anyio, pytest.mark.engine]
MODEL = "qwen2.5-coder-0.5b-instruct"


def auth(secret):
    return {"Authorization": f"Bearer {secret}"}


async def test_store_read_export_erase(api, services):
    admin = auth(services.admin_secret)
    question = "제 이름은 박서준이고 전화번호는 010-9876-5432입니다. 제주도 여행지를 하나 추천해 주세요."
    r = await api.post("/v1/chat/completions", headers={**admin, "X-Jaju-Subject": "%EA%B3%A0%EA%B0%9D-7"}, json={
        "model": MODEL, "max_tokens": 12, "temperature": 0, "store": True, "metadata": {"채널": "상담"},
        "messages": [{"role": "user", "content": question}]})
    assert r.status_code == 200, r.text
    rid = r.json()["id"]

    with services.db.sessions() as s:
        row = s.scalars(select(StoredCompletion).where(StoredCompletion.id == rid)).one()
    assert "제주도".encode() not in row.payload and "010-9876".encode() not in row.payload  # ciphertext only

    kept = (await api.get(f"/v1/chat/completions/{rid}", headers=admin)).json()
    text = kept["messages"][0]["content"]
    assert "제주도" in text and "010-9876-5432" not in text  # phone masked for storage by default policy
    assert kept["metadata"] == {"채널": "상담"}
    listing = (await api.get("/v1/chat/completions", headers=admin)).json()
    assert rid in [c["id"] for c in listing["data"]]

    # another tenant cannot read it
    other = services.tenants.create("다른기관", "KR")
    _, other_key = services.keys.create(other.id, ["inference", "privacy"])
    assert (await api.get(f"/v1/chat/completions/{rid}", headers=auth(other_key))).status_code == 404

    export = (await api.get("/v1/privacy/subjects/고객-7/export", headers=admin)).json()
    assert rid in str(export)
    erased = await api.delete("/v1/privacy/subjects/고객-7", headers=admin)
    assert erased.status_code == 200, erased.text
    assert (await api.get(f"/v1/chat/completions/{rid}", headers=admin)).status_code == 404
