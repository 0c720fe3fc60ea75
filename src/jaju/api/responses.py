"""/v1/responses: thin translation between HTTP and ResponsesService (which runs on the chat path)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request

from jaju.api.auth import Principal, require_scope
from jaju.api.openai import _auth, _limited, _options, _reply
from jaju.errors import ApiError
from jaju.protocol.responses import ResponsesRequest

router = APIRouter(prefix="/v1", tags=["responses"])
Inference = Annotated[Principal, Depends(require_scope("inference"))]


def _responses(request: Request):
    return request.app.state.services.responses


@router.post("/responses")
async def create_response(body: ResponsesRequest, request: Request, principal: Inference):
    """Create a model response (streamed as typed events, run in the background, or plain JSON)."""
    services = _limited(request, principal)
    ctx = services.context(principal, "resp", _options(request, body.jaju), "responses", _auth(request))
    run = await services.responses.plan(ctx, body)
    limit = services.settings.limits.max_messages
    if len(run.chat.messages) > limit:
        raise ApiError(413, f"{len(run.chat.messages)} items is more than this deployment accepts ({limit}).",
                       "invalid_request_error", "too_many_messages", "input")
    return await _reply(ctx, services.responses.create(ctx, run))


@router.get("/responses/{response_id}")
async def get_response(response_id: str, request: Request, principal: Inference):
    """A stored response (decrypted for its own tenant only); a background one shows its progress."""
    return await _responses(request).retrieve(principal.tenant_id, response_id)


@router.delete("/responses/{response_id}")
async def delete_response(response_id: str, request: Request, principal: Inference):
    return await _responses(request).delete(principal.tenant_id, response_id)


@router.post("/responses/{response_id}/cancel")
async def cancel_response(response_id: str, request: Request, principal: Inference):
    """Cancel a background response; any other response is a 400."""
    return await _responses(request).cancel(principal.tenant_id, response_id)


@router.get("/responses/{response_id}/input_items")
async def list_input_items(response_id: str, request: Request, principal: Inference,
                           limit: Annotated[int, Query(ge=1, le=100)] = 20,
                           order: Literal["asc", "desc"] = "desc", after: str | None = None):
    return await _responses(request).input_items(principal.tenant_id, response_id, limit, order, after)
