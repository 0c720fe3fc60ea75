"""POST /v1/moderations (`inference` scope): OpenAI's shape plus jaju's Korean categories."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, Request

from jaju.api.auth import Principal, require_scope
from jaju.audit.events import Event
from jaju.errors import ApiError
from jaju.protocol.common import named_model
from jaju.protocol.moderations import MODEL_ALIASES, ModerationRequest, moderation_body

router = APIRouter(prefix="/v1", tags=["moderation"])
Caller = Annotated[Principal, Depends(require_scope("inference"))]


@router.post("/moderations")
async def create_moderation(body: ModerationRequest, request: Request, principal: Caller) -> dict:
    if body.model is not None and body.model not in MODEL_ALIASES:
        raise ApiError(404, f"{named_model(body.model)} is not a moderation model here; use "
                            f"'{MODEL_ALIASES[0]}' (or leave model out).", "invalid_request_error",
                       "model_not_found", "model")
    service = request.app.state.services.moderation
    # Kiwi and the recognizers are CPU work: keep the event loop free.
    results = await asyncio.to_thread(service.check, body.texts)
    # Category names and counts only: never the text or the words that matched.
    flagged = sorted({c for r in results for c in r.detected})
    request.app.state.services.audit.append(Event(action="moderation.check", tenant_id=principal.tenant_id,
                                                  key_id=principal.key_id,
                                                  fields={"inputs": len(results), "categories": flagged}))
    return moderation_body(service.model, [r.to_openai() for r in results])
