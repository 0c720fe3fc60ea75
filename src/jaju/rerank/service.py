"""RerankService: plain arguments in (tenant, model, query, documents), ranked results out.

The router (jaju.api.rerank) adds authentication, limits, audit and usage; the knowledge-base search
reuses the same service through `HitReranker`. Models served by a remote engine are handed to the
`remote` callable (residency routing is the caller's: it picks a backend the tenant may use).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from jaju.errors import InvalidRequest, NotFound
from jaju.rerank.scorers import Scorer

MAX_DOCUMENTS = 1000


@dataclass(frozen=True, slots=True)
class Ranked:
    index: int
    relevance_score: float


@dataclass(slots=True)
class RerankResult:
    """Results best first (at most top_n), the tokens read, and who scored them."""

    model: str
    scorer: str
    results: list[Ranked]
    tokens: int
    backend: str = "embedded"
    extra: dict = field(default_factory=dict)


# (tenant_id, model, query, documents, top_n) -> result, or None when no backend the tenant may use
# serves the model remotely. The tenant is there for residency: the callable picks the backend.
RemoteRerank = Callable[[str, str, str, list[str], int | None], Awaitable[RerankResult | None]]


def rank(scores: list[float], top_n: int | None) -> list[Ranked]:
    """Indices by descending score; ties keep the given order (stable)."""
    order = sorted(range(len(scores)), key=lambda i: -scores[i])
    return [Ranked(i, scores[i]) for i in order[:top_n]]


class RerankService:
    """Local scorers by model name, and an optional remote path for models served elsewhere."""

    def __init__(self, scorers: dict[str, Scorer], remote: RemoteRerank | None = None):
        self.scorers = dict(scorers)
        self.remote = remote

    @property
    def models(self) -> list[str]:
        return list(self.scorers)

    def check(self, query: str, documents: list[str], top_n: int | None) -> None:
        if not query.strip():
            raise InvalidRequest("query must not be empty.", "invalid_value", "query")
        if not documents:
            raise InvalidRequest("documents must hold at least one document.", "invalid_value", "documents")
        if len(documents) > MAX_DOCUMENTS:
            raise InvalidRequest(f"At most {MAX_DOCUMENTS} documents per request.", "too_many_documents",
                                 "documents")
        if top_n is not None and top_n < 1:
            raise InvalidRequest("top_n must be at least 1.", "invalid_value", "top_n")

    def score_local(self, model: str, query: str, documents: list[str], top_n: int | None = None) -> RerankResult:
        """Blocking: rank with a local scorer (for callers already off the event loop)."""
        self.check(query, documents, top_n)
        scorer = self.scorers.get(model)
        if scorer is None:
            raise NotFound(f"The model '{model}' cannot rerank here; use one of: {', '.join(self.models)}.",
                           "model_not_found", "model")
        scores = scorer.score(query, documents)
        return RerankResult(model, scorer.name, rank(scores.values, top_n), scores.tokens)

    async def rerank(self, tenant_id: str, model: str, query: str, documents: list[str],
                     top_n: int | None = None) -> RerankResult:
        """Rank documents for the tenant: a remote engine's /rerank when one serves `model`, else a local scorer."""
        self.check(query, documents, top_n)
        if model not in self.scorers and self.remote is not None:
            result = await self.remote(tenant_id, model, query, documents, top_n)
            if result is not None:
                return result
        return await asyncio.to_thread(self.score_local, model, query, documents, top_n)
