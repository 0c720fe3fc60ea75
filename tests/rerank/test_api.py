"""/v1/rerank in-process: Cohere/vLLM shape, key and scope, audit without content, usage recorded."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

from jaju.api import errors
from jaju.api.rerank import router
from jaju.errors import ApiError
from jaju.tenancy.principal import Principal
from tests.rerank.conftest import MODEL

QUERY = "재외국민 보호는 누구의 의무인가요?"
DOCUMENTS = ["국가는 법률이 정하는 바에 의하여 재외국민을 보호할 의무를 진다.",
             "국회의원의 임기는 4년으로 한다.",
             "의무교육은 무상으로 한다."]


class FakeKeys:
    TOKENS = {"seoul-key": frozenset({"inference"}), "kb-only": frozenset({"knowledge"})}

    def authenticate(self, token: str) -> Principal:
        if token not in self.TOKENS:
            raise ApiError(401, "Invalid API key.", "authentication_error", "invalid_api_key")
        return Principal("t_seoul", "서울시청", f"key_{token}", self.TOKENS[token], "KR")

    async def authenticate_async(self, token: str) -> Principal:
        return self.authenticate(token)


class Recorder:
    def __init__(self):
        self.events, self.usage = [], []

    def append(self, event):
        self.events.append(event)

    def hmac(self, tenant_id, text):
        return f"hmac-{len(text)}"

    def record(self, *args):
        self.usage.append(args)

    def month_tokens(self, tenant_id):
        return 0

    def check(self, key_id):
        pass


@pytest.fixture
def rec():
    return Recorder()


@pytest.fixture
def client(rerank_service, rec):
    app = FastAPI()
    law = SimpleNamespace(monthly_token_quota=None)
    app.state.services = SimpleNamespace(rerank=rerank_service, keys=FakeKeys(), audit=rec, usage=rec,
                                         ratelimit=rec, law=lambda _tid: law)
    errors.install(app)
    app.include_router(router)
    with TestClient(app) as c:
        yield c


KEY = {"Authorization": "Bearer seoul-key"}


def test_rerank_in_the_vllm_and_cohere_shape(client, rec):
    r = client.post("/v1/rerank", headers=KEY, json={"model": MODEL, "query": QUERY, "documents": DOCUMENTS})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["id"].startswith("rerank-") and body["model"] == MODEL
    assert body["results"][0] == {"index": 0, "relevance_score": body["results"][0]["relevance_score"],
                                  "document": {"text": DOCUMENTS[0]}}
    assert len(body["results"]) == 3 and body["jaju"]["scorer"] == "e5-cosine"
    assert body["usage"]["total_tokens"] > 0
    [event] = rec.events
    assert event.action == "rerank" and event.status == 200 and event.fields["scorer"] == "e5-cosine"
    assert QUERY not in str(event.fields) and DOCUMENTS[0] not in str(event.fields)
    assert rec.usage == [("t_seoul", "key_seoul-key", MODEL, body["usage"]["total_tokens"], 0)]


def test_object_documents_top_n_and_no_documents_back(client):
    r = client.post("/v2/rerank", headers=KEY, json={
        "model": MODEL, "query": QUERY, "documents": [{"text": d} for d in DOCUMENTS],
        "top_n": 1, "return_documents": False})
    assert r.status_code == 200, r.text
    assert [set(x) for x in r.json()["results"]] == [{"index", "relevance_score"}]
    assert r.json()["results"][0]["index"] == 0


@pytest.mark.parametrize("body,param", [
    ({"model": MODEL, "query": "", "documents": DOCUMENTS}, "query"),
    ({"model": MODEL, "query": "   ", "documents": DOCUMENTS}, "query"),
    ({"model": MODEL, "query": QUERY, "documents": []}, "documents"),
    ({"model": MODEL, "query": QUERY, "documents": DOCUMENTS, "top_n": 0}, "top_n"),
    ({"model": MODEL, "query": QUERY, "documents": DOCUMENTS, "return_documents": "yes"}, "return_documents"),
    ({"model": MODEL, "query": QUERY, "documents": [{"content": "문서"}]}, "documents"),
])
def test_bad_requests_are_400_in_openai_shape(client, body, param):
    r = client.post("/v1/rerank", headers=KEY, json=body)
    assert r.status_code == 400, r.text
    err = r.json()["error"]
    assert err["type"] == "invalid_request_error" and param in (err["param"] or "")


def test_unknown_model_is_404_and_audited(client, rec):
    r = client.post("/v1/rerank", headers=KEY, json={"model": "cohere-rerank-v3.5", "query": QUERY,
                                                     "documents": DOCUMENTS})
    assert r.status_code == 404 and r.json()["error"]["code"] == "model_not_found"
    assert [e.status for e in rec.events] == [404]


def test_key_and_scope_are_required(client):
    body = {"model": MODEL, "query": QUERY, "documents": DOCUMENTS}
    assert client.post("/v1/rerank", json=body).status_code == 401
    r = client.post("/v1/rerank", json=body, headers={"Authorization": "Bearer kb-only"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "insufficient_scope"


def test_a_used_up_quota_is_429(rerank_service, rec):
    app = FastAPI()
    rec.month_tokens = lambda tenant_id: 1_000
    app.state.services = SimpleNamespace(rerank=rerank_service, keys=FakeKeys(), audit=rec, usage=rec,
                                         ratelimit=rec, law=lambda _tid: SimpleNamespace(monthly_token_quota=1_000))
    errors.install(app)
    app.include_router(router)
    with TestClient(app) as c:
        r = c.post("/v1/rerank", headers=KEY, json={"model": MODEL, "query": QUERY, "documents": DOCUMENTS})
    assert r.status_code == 429 and r.json()["error"]["code"] == "quota_exceeded"
    assert rec.usage == []
