"""Stored responses follow their data subject: exported with it, erased with it (and its key shredded)."""

from __future__ import annotations

import pytest

from tests.responses.conftest import auth

pytestmark = [pytest.mark.anyio, pytest.mark.engine]
MODEL = "qwen2.5-coder-0.5b-instruct"


async def test_export_and_erase_with_the_subject(api, services):
    admin = auth(services.admin_secret)
    r = await api.post("/v1/responses", headers={**admin, "X-Jaju-Subject": "%EA%B3%A0%EA%B0%9D-31"}, json={
        "model": MODEL, "input": "제 전화번호는 010-9876-5432입니다. 제주도 여행지를 하나 추천해 주세요.",
        "temperature": 0, "max_output_tokens": 12})
    assert r.status_code == 200, r.text
    rid = r.json()["id"]
    items = (await api.get(f"/v1/responses/{rid}/input_items", headers=admin)).json()
    kept = items["data"][0]["content"][0]["text"]
    assert "제주도" in kept and "010-9876-5432" not in kept  # the phone is masked for storage by default

    export = (await api.get("/v1/privacy/subjects/고객-31/export", headers=admin)).json()
    assert rid in [x["id"] for x in export["data"]["stored_responses"]["responses"]]
    erased = (await api.delete("/v1/privacy/subjects/고객-31", headers=admin)).json()
    assert erased["deleted"]["stored_responses"] == 1
    assert (await api.get(f"/v1/responses/{rid}", headers=admin)).status_code == 404
