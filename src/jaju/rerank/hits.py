"""The knowledge-base search's rerank hook, on the same RerankService as /v1/rerank."""

from __future__ import annotations

from dataclasses import replace

from jaju.knowledge.citations import Hit
from jaju.rerank.service import RerankService


class HitReranker:
    """Reorders fused hits by the reranker's score (`Hit.score` becomes that score); fits knowledge's Reranker."""

    def __init__(self, service: RerankService, model: str):
        self.service = service
        self.model = model

    def rerank(self, query: str, hits: list[Hit]) -> list[Hit]:
        if not hits:
            return hits
        result = self.service.score_local(self.model, query, [h.text for h in hits])
        return [replace(hits[r.index], score=r.relevance_score) for r in result.results]
