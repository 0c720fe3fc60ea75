"""/v1/batches: create, retrieve, list and cancel batches (`inference` scope; another tenant's id is 404)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator

from jaju.api.auth import Principal, require_scope
from jaju.audit import Event

router = APIRouter(prefix="/v1/batches", tags=["batches"])
Caller = Annotated[Principal, Depends(require_scope("inference"))]


class CreateBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    input_file_id: Annotated[str, Field(min_length=1, max_length=40)]
    endpoint: Annotated[str, Field(max_length=40)]
    completion_window: Annotated[str, Field(max_length=8)]
    metadata: dict[str, str] | None = None

    @field_validator("metadata")
    @classmethod
    def _bounded(cls, v: dict[str, str] | None) -> dict[str, str] | None:
        # OpenAI's limits: 16 pairs, keys up to 64 characters, values up to 512.
        if v is not None and (len(v) > 16 or any(len(k) > 64 or len(x) > 512 for k, x in v.items())):
            raise ValueError("at most 16 pairs, keys up to 64 characters and values up to 512")
        return v


def _batches(request: Request):
    return request.app.state.services.batches


def _audit(request: Request, principal: Principal, action: str, **fields) -> None:
    request.app.state.services.audit.append(Event(action=action, tenant_id=principal.tenant_id,
                                                  key_id=principal.key_id, fields=fields))


@router.post("")
def create_batch(body: CreateBatch, request: Request, principal: Caller) -> dict:
    """Check the input file's lines and queue them; the background worker runs them."""
    batch = _batches(request).create(principal.tenant_id, principal.key_id, body.input_file_id, body.endpoint,
                                     body.completion_window, body.metadata)
    _audit(request, principal, "batch.create", batch_id=batch["id"], endpoint=body.endpoint,
           input_file_id=body.input_file_id, requests=batch["request_counts"]["total"])
    return batch


@router.get("")
def list_batches(request: Request, principal: Caller, limit: int = 20, after: str | None = None) -> dict:
    return _batches(request).list(principal.tenant_id, limit, after)


@router.get("/{batch_id}")
def retrieve_batch(batch_id: str, request: Request, principal: Caller) -> dict:
    return _batches(request).get(principal.tenant_id, batch_id)


@router.post("/{batch_id}/cancel")
def cancel_batch(batch_id: str, request: Request, principal: Caller) -> dict:
    batch = _batches(request).cancel(principal.tenant_id, batch_id)
    _audit(request, principal, "batch.cancel", batch_id=batch_id)
    return batch
