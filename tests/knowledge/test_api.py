"""The knowledge router in-process: uploads, per-file results, search, and 404 across tenants."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

from jaju.api import errors
from jaju.api.auth import Principal
from jaju.api.knowledge import router
from jaju.errors import ApiError
from jaju.privacy.policy import PrivacyPolicy
from tests.knowledge.builders import build_hwp, build_hwpx


class FakeKeys:
    TOKENS = {"seoul-key": ("t_seoul", "서울시청"), "busan-key": ("t_busan", "부산은행")}

    def authenticate(self, token: str) -> Principal:
        if token not in self.TOKENS:
            raise ApiError(401, "Invalid API key.", "authentication_error", "invalid_api_key")
        tenant, name = self.TOKENS[token]
        return Principal(tenant, name, f"key_{tenant}", frozenset({"knowledge"}), "KR")

    async def authenticate_async(self, token: str) -> Principal:
        return self.authenticate(token)


class RecordingAudit:
    def __init__(self):
        self.events = []

    def append(self, event):
        self.events.append(event)


@pytest.fixture
def audit():
    return RecordingAudit()


@pytest.fixture
def client(service, audit):
    app = FastAPI()
    law = SimpleNamespace(privacy=PrivacyPolicy.from_dict({}))  # the default PII rules screen filenames
    app.state.services = SimpleNamespace(knowledge=service, keys=FakeKeys(), audit=audit, law=lambda tenant_id: law)
    errors.install(app)
    app.include_router(router)
    with TestClient(app) as c:
        yield c


SEOUL = {"Authorization": "Bearer seoul-key"}
BUSAN = {"Authorization": "Bearer busan-key"}


def test_full_flow_and_isolation(client, audit):
    r = client.post("/v1/knowledge-bases", json={"name": "민원 안내"}, headers=SEOUL)
    assert r.status_code == 201
    kb_id = r.json()["id"]
    files = [
        ("files", ("여권.hwpx", build_hwpx("여권 안내", [("h1", "여권 발급"), ("p", "여권은 구청 민원실에서 신청합니다.")]),
                   "application/octet-stream")),
        ("files", ("깨진.pdf", b"%PDF-1.4 not really", "application/pdf")),
        ("files", ("주차.hwp", build_hwp(["주차장 안내", "주차장은 지하 2층이며 민원인은 1시간 무료입니다."]),
                   "application/x-hwp")),
    ]
    r = client.post(f"/v1/knowledge-bases/{kb_id}/documents", files=files, headers=SEOUL,
                    data={"labels": json.dumps({"부서": "민원과"})})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["succeeded"], body["failed"]) == (2, 1)
    assert [d["status"] for d in body["data"]] == ["ok", "error", "ok"]
    assert body["data"][1]["error"]["code"] == "corrupt_document"
    doc_id = body["data"][0]["document"]["id"]
    assert [e.action for e in audit.events].count("knowledge.document.add") == 2
    assert all("여권" not in json.dumps(e.fields, ensure_ascii=False) for e in audit.events)

    r = client.post(f"/v1/knowledge-bases/{kb_id}/search", json={"query": "여권은 어디서 신청하나요?", "top_k": 2},
                    headers=SEOUL)
    assert r.status_code == 200
    top = r.json()["data"][0]
    assert top["document_id"] == doc_id and top["section"] == "여권 발급" and "구청 민원실" in top["text"]

    r = client.post(f"/v1/knowledge-bases/{kb_id}/search",
                    json={"query": "신청", "filters": {"labels": {"부서": "없는과"}}}, headers=SEOUL)
    assert r.json()["data"] == []

    # Tenant B: the same ids answer 404, exactly as ids that never existed.
    for method, path, kwargs in [
        ("get", f"/v1/knowledge-bases/{kb_id}", {}),
        ("get", f"/v1/knowledge-bases/{kb_id}/documents", {}),
        ("get", f"/v1/knowledge-bases/{kb_id}/documents/{doc_id}", {}),
        ("delete", f"/v1/knowledge-bases/{kb_id}/documents/{doc_id}", {}),
        ("post", f"/v1/knowledge-bases/{kb_id}/search", {"json": {"query": "여권"}}),
        ("post", f"/v1/knowledge-bases/{kb_id}/documents", {"files": [("files", ("x.txt", "침입".encode()))]}),
        ("delete", f"/v1/knowledge-bases/{kb_id}", {}),
    ]:
        r = client.request(method.upper(), path, headers=BUSAN, **kwargs)
        assert r.status_code == 404, (method, path, r.text)
        assert r.json()["error"]["code"] == "not_found"
        missing = client.request(method.upper(), path.replace(kb_id, "kb_doesnotexist"), headers=BUSAN, **kwargs)
        assert missing.status_code == 404
    assert client.get("/v1/knowledge-bases", headers=BUSAN).json()["data"] == []

    r = client.get(f"/v1/knowledge-bases/{kb_id}/documents", headers=SEOUL)
    assert {d["filename"] for d in r.json()["data"]} == {"여권.hwpx", "주차.hwp"}
    assert client.delete(f"/v1/knowledge-bases/{kb_id}/documents/{doc_id}", headers=SEOUL).json()["deleted"]
    r = client.post(f"/v1/knowledge-bases/{kb_id}/search", json={"query": "여권 신청"}, headers=SEOUL)
    assert all(h["document_id"] != doc_id for h in r.json()["data"])
    assert client.delete(f"/v1/knowledge-bases/{kb_id}", headers=SEOUL).status_code == 200
    assert client.get(f"/v1/knowledge-bases/{kb_id}", headers=SEOUL).status_code == 404


@pytest.mark.parametrize("payload,param", [
    ({"name": ""}, "name"),
    ({"name": "x", "description": "가" * 2001}, "description"),
])
def test_create_validation(client, payload, param):
    r = client.post("/v1/knowledge-bases", json=payload, headers=SEOUL)
    assert r.status_code == 400 and r.json()["error"]["param"] == param


def test_duplicate_name_is_409_and_bad_labels_400(client):
    kb_id = client.post("/v1/knowledge-bases", json={"name": "규정"}, headers=SEOUL).json()["id"]
    r = client.post("/v1/knowledge-bases", json={"name": "규정"}, headers=SEOUL)
    assert r.status_code == 409
    r = client.post(f"/v1/knowledge-bases/{kb_id}/documents", files=[("files", ("a.txt", "내용".encode()))],
                    data={"labels": "[1, 2]"}, headers=SEOUL)
    assert r.status_code == 400 and r.json()["error"]["param"] == "labels"
    r = client.post(f"/v1/knowledge-bases/{kb_id}/search", json={"query": "내용", "mode": "magic"}, headers=SEOUL)
    assert r.status_code == 400


def test_requires_api_key(client):
    assert client.get("/v1/knowledge-bases").status_code == 401
