"""POST /v1/rerank (and Cohere's /v2/rerank path): thin translation to RerankService, audited and metered."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Depends, Request

from jaju.api.auth import Principal, require_scope
from jaju.audit.events import Event
from jaju.errors import QuotaExceeded, ServiceError
from jaju.protocol.common import new_id
from jaju.rerank.protocol import RerankRequest, rerank_body

router = APIRouter(tags=["rerank"])
Inference = Annotated[Principal, Depends(require_scope("inference"))]


def _admit(services, p: Principal) -> None:
    """Rate limit, then the tenant's monthly token quota (reranking reads tokens like embeddings do)."""
    services.ratelimit.check(p.key_id)
    quota = services.law(p.tenant_id).monthly_token_quota
    if quota and services.usage.month_tokens(p.tenant_id) >= quota:
        raise QuotaExceeded(f"This tenant's monthly quota of {quota:,} tokens is used up.")


@router.post("/v1/rerank")
@router.post("/v2/rerank", include_in_schema=False)
async def rerank(body: RerankRequest, request: Request, principal: Inference) -> dict:
    """Rank documents by relevance to the query; `jaju.scorer` says which scorer answered."""
    services = request.app.state.services
    _admit(services, principal)
    rid, started, texts = new_id("rerank"), time.perf_counter(), body.texts
    fields = {"request_id": rid, "model": body.model, "documents": len(texts),
              "input_hmac": services.audit.hmac(principal.tenant_id, body.query + "\x00" + "\x00".join(texts))}
    try:
        result = await services.rerank.rerank(principal.tenant_id, body.model, body.query, texts, body.top_n)
    except ServiceError as e:
        services.audit.append(Event(action="rerank", tenant_id=principal.tenant_id, key_id=principal.key_id,
                                    status=e.status, fields=fields))
        raise
    fields.update(scorer=result.scorer, backend=result.backend, prompt_tokens=result.tokens,
                  latency_ms=round((time.perf_counter() - started) * 1000, 2))
    services.usage.record(principal.tenant_id, principal.key_id, body.model, result.tokens, 0)
    services.audit.append(Event(action="rerank", tenant_id=principal.tenant_id, key_id=principal.key_id,
                                status=200, fields=fields))
    return rerank_body(rid, result, texts, body.return_documents)
