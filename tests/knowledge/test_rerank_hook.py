"""The knowledge search's rerank hook runs on the same RerankService as /v1/rerank."""

from __future__ import annotations

from jaju.engine.catalog import EMBEDDING_MODEL
from jaju.knowledge.config import KnowledgeSettings
from jaju.knowledge.service import KnowledgeService
from jaju.rerank.factory import build_rerank_service
from jaju.rerank.hits import HitReranker
from tests.knowledge.test_service import CONSTITUTION


def test_search_reranks_a_deeper_list_and_returns_top_k(db, analyzer, embedder, cipher, privacy):
    rerank = build_rerank_service(embedder.engine, embedder.lock)
    settings = KnowledgeSettings(chunk_tokens=60, overlap_tokens=0, rerank_candidates=8)
    plain = KnowledgeService(db, analyzer, embedder, cipher, settings, privacy=privacy)
    kb = plain.create_kb("t_seoul", "헌법")
    assert plain.add_documents("t_seoul", kb.id, [("헌법.txt", CONSTITUTION.encode())])[0].ok
    hooked = KnowledgeService(db, analyzer, embedder, cipher, settings, HitReranker(rerank, EMBEDDING_MODEL),
                              privacy=privacy)
    query = "대통령은 몇 년 동안 재직하나요?"
    hits = hooked.search("t_seoul", [kb.id], query, top_k=3)
    assert len(hits) == 3
    deeper = plain.search("t_seoul", [kb.id], query, top_k=8)
    expected = rerank.score_local(EMBEDDING_MODEL, query, [h.text for h in deeper], top_n=3)
    assert [h.chunk_id for h in hits] == [deeper[r.index].chunk_id for r in expected.results]
    assert [h.score for h in hits] == [r.relevance_score for r in expected.results]
