"""RerankService: real e5 scores on Korean text, plain arguments, errors that name the field."""

from __future__ import annotations

import asyncio

import pytest

from jaju.errors import InvalidRequest, NotFound, UpstreamFailed
from jaju.rerank.remote import parse_rerank, remote_rerank
from jaju.rerank.service import MAX_DOCUMENTS, RerankResult, RerankService, rank
from tests.rerank.conftest import MODEL

QUERY = "국회의원의 임기는 몇 년인가요?"
DOCUMENTS = [
    "대통령의 임기는 5년으로 하며, 중임할 수 없다.",
    "국회의원의 임기는 4년으로 한다.",
    "김치는 배추와 고춧가루로 담그는 한국의 발효 음식이다.",
    "대법원장의 임기는 6년으로 하며, 중임할 수 없다.",
]


def test_the_relevant_document_ranks_first(rerank_service):
    result = rerank_service.score_local(MODEL, QUERY, DOCUMENTS)
    assert result.scorer == "e5-cosine" and result.model == MODEL
    assert [r.index for r in result.results][0] == 1
    assert result.results[-1].index == 2  # the recipe is the least relevant
    scores = [r.relevance_score for r in result.results]
    assert scores == sorted(scores, reverse=True) and all(-1.0 <= s <= 1.0 for s in scores)
    assert result.tokens > len(QUERY) // 4


def test_top_n_cuts_after_ranking(rerank_service):
    full = rerank_service.score_local(MODEL, QUERY, DOCUMENTS)
    top = asyncio.run(rerank_service.rerank("t_seoul", MODEL, QUERY, DOCUMENTS, top_n=2))
    assert [r.index for r in top.results] == [r.index for r in full.results[:2]]


@pytest.mark.parametrize("query,documents,top_n,param", [
    ("  ", DOCUMENTS, None, "query"),
    (QUERY, [], None, "documents"),
    (QUERY, ["문서"] * (MAX_DOCUMENTS + 1), None, "documents"),
    (QUERY, DOCUMENTS, 0, "top_n"),
])
def test_bad_input_names_the_field(rerank_service, query, documents, top_n, param):
    with pytest.raises(InvalidRequest) as e:
        rerank_service.score_local(MODEL, query, documents, top_n)
    assert e.value.param == param


def test_unknown_model_is_404_listing_what_can_rerank(rerank_service):
    with pytest.raises(NotFound) as e:
        asyncio.run(rerank_service.rerank("t_seoul", "bge-reranker-v2-m3", QUERY, DOCUMENTS))
    assert MODEL in str(e.value) and e.value.param == "model"


def test_rank_is_stable_on_ties():
    assert [r.index for r in rank([0.5, 0.9, 0.5, 0.1], None)] == [1, 0, 2, 3]


def test_a_model_served_remotely_goes_to_the_remote_path(rerank_service):
    asked = []

    async def remote(tenant_id, model, query, documents, top_n):
        asked.append((tenant_id, model))
        if model != "bge-reranker-v2-m3":
            return None
        return RerankResult(model, "remote:vllm-kr", rank([0.1, 0.9], top_n), 12, backend="vllm-kr")

    service = RerankService(rerank_service.scorers, remote)
    result = asyncio.run(service.rerank("t_seoul", "bge-reranker-v2-m3", QUERY, ["가", "나"]))
    assert result.scorer == "remote:vllm-kr" and [r.index for r in result.results] == [1, 0]
    local = asyncio.run(service.rerank("t_seoul", MODEL, QUERY, DOCUMENTS))
    assert local.scorer == "e5-cosine"
    assert asked == [("t_seoul", "bge-reranker-v2-m3")]  # local models never go remote


# vLLM's /v1/rerank reply, as its documentation shows it (results best first, document echoed).
VLLM_REPLY = {"id": "rerank-3f2a", "model": "BAAI/bge-reranker-v2-m3", "usage": {"total_tokens": 57},
              "results": [{"index": 1, "document": {"text": "국회의원의 임기는 4년으로 한다."},
                           "relevance_score": 0.9921},
                          {"index": 0, "document": {"text": "대통령의 임기는 5년으로 하며"},
                           "relevance_score": 0.0132}]}


def test_remote_rerank_sends_the_rerank_shape_and_reads_the_reply():
    sent = []

    async def post_json(url, body):
        sent.append((url, body))
        return VLLM_REPLY

    result = asyncio.run(remote_rerank(post_json, "http://10.0.0.5:8000/v1/", "bge-m3-rerank",
                                       "BAAI/bge-reranker-v2-m3", QUERY, DOCUMENTS[:2], 2, "vllm-kr"))
    assert sent == [("http://10.0.0.5:8000/v1/rerank", {"model": "BAAI/bge-reranker-v2-m3", "query": QUERY,
                                                         "documents": DOCUMENTS[:2], "top_n": 2})]
    assert result.model == "bge-m3-rerank" and result.scorer == "remote:vllm-kr" and result.tokens == 57
    assert [(r.index, r.relevance_score) for r in result.results] == [(1, 0.9921), (0, 0.0132)]


@pytest.mark.parametrize("reply", [{"data": []}, {"results": [{"index": 5, "relevance_score": 1.0}]},
                                   {"results": [{"index": "x", "relevance_score": 1.0}]}, []])
def test_a_malformed_remote_reply_is_502(reply):
    with pytest.raises(UpstreamFailed):
        parse_rerank(reply, 2, None)


class Transfers:
    """KR tenant; transfers to EU are recorded for t_eu_ok only."""

    def home(self, tenant_id):
        return "KR"

    def allowed_jurisdictions(self, tenant_id):
        return {"KR", "EU"} if tenant_id == "t_eu_ok" else {"KR"}

    def basis(self, tenant_id, to):
        return None


class Audit:
    def __init__(self):
        self.events = []

    def append(self, event):
        self.events.append(event)


class RerankBackend:
    """A remote engine's identity as the router sees it (name, jurisdiction, models)."""

    def __init__(self, name, jurisdiction, fail=False):
        from jaju.engine.base import ModelInfo

        self.name, self.jurisdiction, self.fail = name, jurisdiction, fail
        self.base_url = f"http://{name}:8000/v1"
        self._models = [ModelInfo("bge-reranker-v2-m3", name, jurisdiction, kind="rerank")]
        self.calls = 0

    def models(self):
        return self._models

    def remote_name(self, model):
        return "BAAI/bge-reranker-v2-m3"

    async def post_json(self, url, body):
        self.calls += 1
        if self.fail:
            from jaju.errors import Unavailable

            raise Unavailable(f"backend {self.name} is down", "backend_unavailable")
        return VLLM_REPLY


def test_remote_rerank_goes_only_where_the_tenant_data_may_go(rerank_service):
    from jaju.errors import Unavailable
    from jaju.rerank.remote import routed_remote
    from jaju.sovereignty.router import ResidencyRouter

    kr_down, eu = RerankBackend("vllm-kr", "KR", fail=True), RerankBackend("vllm-eu", "EU")
    audit = Audit()
    router = ResidencyRouter([kr_down, eu], Transfers(), audit)
    service = RerankService(rerank_service.scorers, routed_remote(router, lambda b: b.post_json))
    with pytest.raises(Unavailable):  # home is down and EU has no basis: fail closed, EU never called
        asyncio.run(service.rerank("t_kr", "bge-reranker-v2-m3", QUERY, DOCUMENTS[:2]))
    assert eu.calls == 0 and kr_down.calls == 1
    result = asyncio.run(service.rerank("t_eu_ok", "bge-reranker-v2-m3", QUERY, DOCUMENTS[:2]))
    assert result.scorer == "remote:vllm-eu" and eu.calls == 1
    assert [e.action for e in audit.events] == ["transfer.allowed"]
    local = asyncio.run(service.rerank("t_kr", MODEL, QUERY, DOCUMENTS))  # not served remotely: local e5
    assert local.scorer == "e5-cosine"
