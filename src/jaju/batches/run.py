"""Run one batch line through InferenceService exactly as the API would run the same request."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from jaju.batches import jsonl
from jaju.context import RequestOptions
from jaju.errors import Forbidden, ServiceError, Unauthenticated
from jaju.protocol.chat import ChatCompletionRequest
from jaju.protocol.completions import TextCompletionRequest
from jaju.tenancy.principal import Principal

# endpoint -> (request id prefix, span name), as the API's routers name them.
PREFIXES = {"/v1/chat/completions": ("chatcmpl", "chat.completions"), "/v1/completions": ("cmpl", "completions"),
            "/v1/embeddings": ("emb", "embeddings")}


def principal_for(services, tenant_id: str, key_id: str) -> Principal:
    """The batch's creator as a Principal, read again now: a revoked key or an inactive tenant stops it."""
    tenant = services.tenants.get(tenant_id)
    if tenant.status != "active":
        raise Forbidden(f"Tenant {tenant.name} is {tenant.status}.", "tenant_inactive")
    key = next((k for k in services.keys.list(tenant_id) if k.id == key_id), None)
    if key is None or key.revoked_at is not None:
        raise Unauthenticated("The API key that created this batch has been revoked.", "revoked_api_key")
    if "inference" not in key.scopes and "admin" not in key.scopes:
        raise Forbidden("The API key that created this batch no longer holds the inference scope.",
                        "insufficient_scope")
    return Principal(tenant.id, tenant.name, key_id, frozenset({"inference"}), tenant.jurisdiction)


def _options(req: Any) -> RequestOptions:
    ext = getattr(req, "jaju", None)
    if ext is None or not hasattr(ext, "knowledge_bases"):
        return RequestOptions(subject=getattr(ext, "subject", None))
    return RequestOptions(subject=ext.subject, conversation_id=ext.conversation_id,
                          knowledge_bases=tuple(ext.knowledge_bases), knowledge_top_k=ext.knowledge_top_k)


async def run_line(services, principal: Principal, endpoint: str, custom_id: str | None,
                   body: Any) -> tuple[dict[str, Any], bool]:
    """The output line for one request, and whether it belongs in the error file."""
    try:
        req = jsonl.parse_request(endpoint, body)
    except ValidationError as e:
        return jsonl.response_line(custom_id, 400, None, jsonl.validation_body(e)), True
    except ServiceError as e:
        return jsonl.response_line(custom_id, e.status, None, e.body()), True
    prefix, span_name = PREFIXES[endpoint]
    ctx = services.context(principal, prefix, _options(req), span_name, ignored_params=req.ignored_params)
    try:
        if isinstance(req, ChatCompletionRequest):
            answer = (await services.inference.chat(ctx, req)).body
        elif isinstance(req, TextCompletionRequest):
            answer = (await services.inference.complete(ctx, req)).body
        else:
            answer = await services.inference.embed(ctx, req)
    except ServiceError as e:
        ctx.span.end(e.status)
        return jsonl.response_line(custom_id, e.status, ctx.request_id, e.body()), True
    ctx.span.end(200)
    return jsonl.response_line(custom_id, 200, ctx.request_id, answer), False
