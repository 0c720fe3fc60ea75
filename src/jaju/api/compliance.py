"""Compliance routes: provenance verification, watermark detection, the caller's effective policy."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import Field, model_validator

from jaju.api.auth import Principal, require_scope
from jaju.audit.keys import load_public
from jaju.compliance.runtime import ComplianceService
from jaju.compliance.service import PolicyError
from jaju.errors import ApiError, JajuError, bad_request
from jaju.protocol.common import WireModel

router = APIRouter(tags=["compliance"])
Caller = Annotated[Principal, Depends(require_scope("inference"))]
MAX_TEXT = 1_000_000


class VerifyRequest(WireModel):
    """Content exactly as received (the assistant message text) and its `jaju.provenance` manifest."""

    content: str = Field(max_length=MAX_TEXT)
    manifest: dict[str, Any]
    # PEM of the signer's public key; this deployment's own key when omitted.
    public_key: str | None = Field(None, max_length=4096)


class DetectRequest(WireModel):
    """Text to test, or the token ids themselves; `model` names the tokenizer (the default model if omitted)."""

    text: str | None = Field(None, max_length=MAX_TEXT)
    token_ids: list[Annotated[int, Field(ge=0, lt=2**31)]] | None = Field(None, max_length=200_000)
    model: str | None = None

    @model_validator(mode="after")
    def _one_input(self) -> DetectRequest:
        if (self.text is None) == (self.token_ids is None):
            raise ValueError("send exactly one of text or token_ids")
        return self


def _compliance(request: Request) -> ComplianceService:
    return request.app.state.services.compliance


@router.post("/v1/provenance/verify")
async def provenance_verify(body: VerifyRequest, request: Request, _: Caller) -> dict[str, Any]:
    """Check content against a signed manifest; `problems` says exactly what does not match."""
    public = None
    if body.public_key:
        try:
            public = load_public(body.public_key.encode("ascii"))
        except (ValueError, UnicodeEncodeError):
            raise bad_request("public_key is not a PEM-encoded Ed25519 public key.", param="public_key") from None
    return _compliance(request).verify(body.content, body.manifest, public).to_dict()


@router.get("/v1/provenance/public-key")
async def provenance_public_key(request: Request) -> dict[str, str]:
    """The deployment's public key, so anyone can verify manifests offline (no API key needed)."""
    key = _compliance(request).key
    return {"key_id": key.key_id, "alg": "Ed25519", "public_key": key.public_pem().decode("ascii")}


@router.post("/v1/watermark/detect")
async def watermark_detect(body: DetectRequest, request: Request, _: Caller) -> dict[str, Any]:
    """Score text for the deployment's watermark: z-score and one-sided p-value."""
    compliance = _compliance(request)
    model = body.model or request.app.state.services.settings.engine.default_model
    try:
        detector = compliance.detector(model)
    except JajuError as e:
        raise bad_request(str(e), param="model", code="model_not_found") from None
    # Tokenising a long text takes a while; keep the event loop free.
    result = await asyncio.to_thread(detector.detect, body.text, body.token_ids)
    return {"model": model, **result.to_dict()}


@router.get("/v1/policy")
async def effective_policy(request: Request, principal: Caller) -> dict[str, Any]:
    """The caller's effective policy: every rule with the pack and article it came from."""
    services = request.app.state.services
    tenant = services.tenants.get(principal.tenant_id)
    try:
        policy = _compliance(request).policy_for(tenant.id, tenant.jurisdiction, tenant.settings.get("packs", ()))
    except PolicyError as e:
        raise ApiError(503, str(e), "service_unavailable", "policy_unresolved") from None
    return policy.to_dict()
