"""OpenAI-compatible routes: thin translation between HTTP and InferenceService."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable
from typing import Annotated
from urllib.parse import unquote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, StreamingResponse

from jaju.api.auth import Principal, require_scope
from jaju.compliance.labelling import model_metadata
from jaju.protocol.chat import ChatCompletionRequest
from jaju.protocol.completions import TextCompletionRequest
from jaju.protocol.embeddings import EmbeddingRequest
from jaju.context import RequestContext, RequestOptions
from jaju.errors import ApiError, ServiceError
from jaju.inference import Reply
from jaju.protocol.common import JajuRequestExtension, unknown_model
from jaju.protocol.schemas import (ChatCompletion, EmbeddingList, ModelCard, ModelList, TextCompletion, TokenCount,
                                   documented)
from jaju.protocol.tokenize import TokenizeRequest

router = APIRouter(prefix="/v1", tags=["openai"])
Inference = Annotated[Principal, Depends(require_scope("inference"))]
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def _services(request: Request):
    return request.app.state.services


def _limited(request: Request, p: Principal):
    services = _services(request)
    services.ratelimit.check(p.key_id)
    return services


def _check_messages(request: Request, n: int) -> None:
    limit = _services(request).settings.limits.max_messages
    if n > limit:
        raise ApiError(413, f"{n} messages is more than this deployment accepts ({limit}).",
                       "invalid_request_error", "too_many_messages", "messages")


def _options(request: Request, ext: JajuRequestExtension | None) -> RequestOptions:
    """The request's jaju options; X-Jaju-Subject names the data subject (non-ASCII ids percent-encoded)."""
    header = request.headers.get("x-jaju-subject")
    subject = unquote(header) if header else (ext.subject if ext else None)
    if ext is None:
        return RequestOptions(subject=subject)
    return RequestOptions(subject=subject, conversation_id=ext.conversation_id,
                          knowledge_bases=tuple(ext.knowledge_bases), knowledge_top_k=ext.knowledge_top_k,
                          speech_level=ext.speech_level, history=ext.history)


def _auth(request: Request) -> tuple[int, int] | None:
    return getattr(request.state, "auth_ns", None)


async def _reply(ctx: RequestContext, run: Awaitable[Reply]):
    """Run the service call and translate its Reply; the request's span ends with the response."""
    try:
        result = await run
    except ServiceError as e:
        ctx.span.end(e.status)
        raise
    headers = {"X-Request-ID": ctx.request_id, **result.headers}
    if ctx.span.trace_id:
        headers["X-Jaju-Trace-ID"] = ctx.span.trace_id
    if result.body is not None:
        ctx.span.end(200)
        return JSONResponse(result.body, headers=headers)
    return StreamingResponse(_ending(ctx, result.stream), media_type="text/event-stream",
                             headers={**SSE_HEADERS, **headers})


async def _ending(ctx: RequestContext, stream: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    try:
        async for chunk in stream:
            yield chunk
    finally:
        ctx.span.end(200)


@router.post("/chat/completions", responses=documented(ChatCompletion, stream=True))
async def chat_completions(body: ChatCompletionRequest, request: Request, principal: Inference):
    """Chat completion, streamed (SSE) or not, with tools and structured output."""
    _check_messages(request, len(body.messages))
    services = _limited(request, principal)
    ctx = services.context(principal, "chatcmpl", _options(request, body.jaju), "chat.completions", _auth(request),
                           body.ignored_params)
    return await _reply(ctx, services.inference.chat(ctx, body))


@router.get("/chat/completions/{completion_id}")
async def get_stored_completion(completion_id: str, request: Request, principal: Inference):
    """A chat completion kept with `store: true` (decrypted for its own tenant only)."""
    return _services(request).messages.get(principal.tenant_id, completion_id)


@router.get("/chat/completions")
async def list_stored_completions(request: Request, principal: Inference, limit: int = 20, after: str | None = None):
    if not 1 <= limit <= 100:
        raise ApiError(400, "limit must be between 1 and 100.", param="limit")
    data = _services(request).messages.list(principal.tenant_id, limit, after)
    return {"object": "list", "data": data, "has_more": len(data) == limit}


@router.delete("/chat/completions/{completion_id}")
async def delete_stored_completion(completion_id: str, request: Request, principal: Inference):
    _services(request).messages.delete(principal.tenant_id, completion_id)
    return {"object": "chat.completion.deleted", "id": completion_id, "deleted": True}


@router.post("/completions", responses=documented(TextCompletion, stream=True))
async def completions(body: TextCompletionRequest, request: Request, principal: Inference):
    """Text completion (legacy API)."""
    services = _limited(request, principal)
    ctx = services.context(principal, "cmpl", _options(request, body.jaju), "completions", _auth(request),
                           body.ignored_params)
    return await _reply(ctx, services.inference.complete(ctx, body))


@router.post("/embeddings", responses=documented(EmbeddingList))
async def embeddings(body: EmbeddingRequest, request: Request, principal: Inference):
    """Embeddings with multilingual-e5-small; float or base64."""
    services = _limited(request, principal)
    ctx = services.context(principal, "emb", span_name="embeddings", auth_ns=_auth(request),
                           ignored_params=body.ignored_params)
    try:
        return await services.inference.embed(ctx, body)
    finally:
        ctx.span.end()


@router.post("/tokenize", responses=documented(TokenCount))
async def tokenize(body: TokenizeRequest, request: Request, principal: Inference):
    """Count tokens of a text or of chat messages, for a model."""
    messages = [m.to_engine() for m in body.messages] if body.messages is not None else None
    services = _limited(request, principal)
    return await services.inference.count_tokens(services.context(principal, "tok"), body.model, body.text,
                                                 messages)


@router.get("/models", responses=documented(ModelList))
async def list_models(request: Request, principal: Inference):
    """Models here, with provenance and the notices to show before first use (AI Basic Act, AI Act Art. 50)."""
    services = _services(request)
    notices = model_metadata(services.law(principal.tenant_id).policy)
    allowed = services.sovereignty.transfers.allowed_jurisdictions(principal.tenant_id)
    return {"object": "list", "data": [_model_card(m, notices, allowed) for m in _all_models(services)]}


@router.get("/models/{model_id:path}", responses=documented(ModelCard))
async def get_model(model_id: str, request: Request, principal: Inference):
    services = _services(request)
    allowed = services.sovereignty.transfers.allowed_jurisdictions(principal.tenant_id)
    for m in _all_models(services):
        if m.id == model_id:
            return _model_card(m, model_metadata(services.law(principal.tenant_id).policy), allowed)
    raise unknown_model(model_id)


def _all_models(services) -> list:
    """Local catalog and every declared remote backend's models, one entry per (model, jurisdiction)."""
    seen = {(m.id, m.jurisdiction): m for m in services.models.available()}
    for backend in services.sovereignty.router.backends:
        for m in backend.models():
            seen.setdefault((m.id, m.jurisdiction), m)
    return list(seen.values())


def _model_card(m, notices: dict, allowed: set[str]) -> dict:
    # `permitted`: whether this tenant's data may be processed where the model runs (else requests get 503).
    return {"id": m.id, "object": "model", "created": 0, "owned_by": "jaju",
            "jaju": {"kind": m.kind, "backend": m.backend, "jurisdiction": m.jurisdiction, "sha256": m.sha256,
                     "size": m.size, "license": m.license, "origin": m.origin, "loaded": m.loaded,
                     "context_length": m.context_length, "permitted": m.jurisdiction in allowed, **notices}}
