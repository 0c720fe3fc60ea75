"""OpenAI-compatible routes: thin translation between HTTP and InferenceService."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import unquote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, StreamingResponse

from jaju.api.auth import Principal, require_scope
from jaju.protocol.chat import ChatCompletionRequest
from jaju.protocol.completions import TextCompletionRequest
from jaju.protocol.embeddings import EmbeddingRequest
from jaju.errors import ApiError
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


def _subject(request: Request) -> str | None:
    """X-Jaju-Subject names the data subject; non-ASCII ids arrive percent-encoded (UTF-8)."""
    value = request.headers.get("x-jaju-subject")
    return unquote(value) if value else None


def _reply(result):
    if isinstance(result, dict):
        headers = {"X-Request-ID": result["id"]}
        return JSONResponse(result, headers=headers)
    return StreamingResponse(result, media_type="text/event-stream", headers=SSE_HEADERS)


@router.post("/chat/completions")
async def chat_completions(body: ChatCompletionRequest, request: Request, principal: Inference):
    """Chat completion, streamed (SSE) or not, with tools and structured output."""
    _check_messages(request, len(body.messages))
    return _reply(await _limited(request, principal).inference.chat(principal, body, _subject(request)))


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


@router.post("/completions")
async def completions(body: TextCompletionRequest, request: Request, principal: Inference):
    """Text completion (legacy API)."""
    return _reply(await _limited(request, principal).inference.complete(principal, body, _subject(request)))


@router.post("/embeddings")
async def embeddings(body: EmbeddingRequest, request: Request, principal: Inference):
    """Embeddings with multilingual-e5-small; float or base64."""
    return await _limited(request, principal).inference.embed(principal, body)


@router.post("/tokenize")
async def tokenize(body: TokenizeRequest, request: Request, principal: Inference):
    """Count tokens of a text or of chat messages, for a model."""
    messages = [m.to_engine() for m in body.messages] if body.messages is not None else None
    return await _limited(request, principal).inference.count_tokens(principal, body.model, body.text, messages)


@router.get("/models")
async def list_models(request: Request, principal: Inference):
    """Models this tenant may use, with their provenance."""
    return {"object": "list", "data": [_model_card(m) for m in _services(request).models.available()]}


@router.get("/models/{model_id:path}")
async def get_model(model_id: str, request: Request, principal: Inference):
    for m in _services(request).models.available():
        if m.id == model_id:
            return _model_card(m)
    raise ApiError(404, f"The model '{model_id}' does not exist.", code="model_not_found", param="model")


def _model_card(m) -> dict:
    return {"id": m.id, "object": "model", "created": 0, "owned_by": "jaju",
            "jaju": {"kind": m.kind, "backend": m.backend, "jurisdiction": m.jurisdiction, "sha256": m.sha256,
                     "size": m.size, "license": m.license, "origin": m.origin, "loaded": m.loaded,
                     "context_length": m.context_length}}
