"""/rerank on a remote engine (vLLM, llama-server, Infinity, TEI-style Cohere/Jina shape).

`remote_rerank` takes the backend's own JSON poster so egress rules, API key and circuit breaker
stay the backend's; it sends `{model, query, documents, top_n}` and reads `results[].index` and
`relevance_score` (vLLM and llama-server), or `score` (some servers), whatever their order.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from jaju.errors import ServiceError, UpstreamFailed
from jaju.rerank.service import Ranked, RemoteRerank, RerankResult

PostJson = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]


def rerank_body(remote_model: str, query: str, documents: list[str], top_n: int | None) -> dict[str, Any]:
    body: dict[str, Any] = {"model": remote_model, "query": query, "documents": documents}
    if top_n is not None:
        body["top_n"] = top_n
    return body


def parse_rerank(data: Any, n_documents: int, top_n: int | None) -> tuple[list[Ranked], int]:
    """Results best first and the tokens the server reported; UpstreamFailed when the reply is malformed."""
    try:
        rows = data["results"]
        ranked = [Ranked(int(r["index"]), float(r["relevance_score"] if "relevance_score" in r else r["score"]))
                  for r in rows]
    except (KeyError, TypeError, ValueError) as e:
        raise UpstreamFailed(f"The rerank server's reply is not in the rerank shape ({type(e).__name__}).") from None
    if any(not 0 <= r.index < n_documents for r in ranked):
        raise UpstreamFailed("The rerank server answered with a document index out of range.")
    ranked.sort(key=lambda r: -r.relevance_score)
    usage = data.get("usage") or {}
    tokens = int(usage.get("total_tokens") or usage.get("prompt_tokens") or 0)
    return ranked[:top_n], tokens


async def remote_rerank(post_json: PostJson, base_url: str, model: str, remote_model: str, query: str,
                        documents: list[str], top_n: int | None, backend: str) -> RerankResult:
    """Ask a remote engine to rerank; `base_url` ends in /v1 (vLLM and llama-server serve /v1/rerank)."""
    data = await post_json(base_url.rstrip("/") + "/rerank", rerank_body(remote_model, query, documents, top_n))
    ranked, tokens = parse_rerank(data, len(documents), top_n)
    return RerankResult(model, f"remote:{backend}", ranked, tokens, backend=backend)


def routed_remote(router, post_json_of: Callable[[Any], PostJson]) -> RemoteRerank:
    """A RemoteRerank over the residency router: permitted backends only, home first, fail closed.

    `router` is the ResidencyRouter; `post_json_of(backend)` gives that backend's JSON poster (its egress
    guard, key and circuit breaker). A model no backend serves answers None (the local scorers decide);
    one served only where the tenant's data may not go raises the router's 503. A backend that fails
    with 5xx hands over to the next permitted one; cross-border use is audited by the router.
    """
    async def remote(tenant_id: str, model: str, query: str, documents: list[str],
                     top_n: int | None) -> RerankResult | None:
        if not router.serving(model):
            return None
        last: ServiceError | None = None
        for backend in router.pick(model, tenant_id):
            try:
                result = await remote_rerank(post_json_of(backend), backend.base_url, model,
                                             backend.remote_name(model), query, documents, top_n, backend.name)
            except ServiceError as e:
                if e.status < 500:
                    raise
                last = e
                continue
            router.record_use(backend, model, tenant_id)
            return result
        raise last  # pick() returned at least one backend, so every one failed
    return remote
