"""Admin routes (`admin` scope): tenants, keys, usage, audit. The same operations as the CLI."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import Field

from jaju.api.auth import Principal, require_scope
from jaju.audit.verify import verify_store
from jaju.errors import ApiError, JajuError
from jaju.protocol.common import WireModel

router = APIRouter(prefix="/admin", tags=["admin"])
Admin = Annotated[Principal, Depends(require_scope("admin"))]


class TenantCreate(WireModel):
    name: str = Field(min_length=1, max_length=100)
    jurisdiction: str = Field(min_length=2, max_length=3)


class QuotaSet(WireModel):
    monthly_tokens: int | None = Field(None, ge=0)


class KeyCreate(WireModel):
    tenant: str = Field(min_length=1)
    scopes: list[str] | None = None
    name: str = ""


def _s(request: Request):
    return request.app.state.services


def _call(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except ApiError:
        raise
    except JajuError as e:
        status = 404 if str(e).startswith("No ") else 400
        raise ApiError(status, str(e)) from None


@router.get("/tenants")
def list_tenants(request: Request, p: Admin):
    return {"object": "list", "data": [asdict(t) for t in _s(request).tenants.list()]}


@router.post("/tenants", status_code=201)
def create_tenant(body: TenantCreate, request: Request, p: Admin):
    return asdict(_call(_s(request).tenants.create, body.name, body.jurisdiction, actor=p.key_id))


@router.put("/tenants/{ref}/quota")
def set_quota(ref: str, body: QuotaSet, request: Request, p: Admin):
    """Cap a tenant's tokens per calendar month (null or 0 removes the cap)."""
    services = _s(request)
    view = _call(services.tenants.set_quota, ref, body.monthly_tokens, actor=p.key_id)
    return {**asdict(view), "used_this_month": services.usage.month_tokens(view.id)}


@router.get("/keys")
def list_keys(request: Request, p: Admin, tenant: str | None = None):
    return {"object": "list", "data": [asdict(k) for k in _call(_s(request).keys.list, tenant)]}


@router.post("/keys", status_code=201)
def create_key(body: KeyCreate, request: Request, p: Admin):
    view, secret = _call(_s(request).keys.create, body.tenant, body.scopes, body.name, actor=p.key_id)
    return {**asdict(view), "secret": secret}


@router.delete("/keys/{key_id}")
def revoke_key(key_id: str, request: Request, p: Admin):
    return asdict(_call(_s(request).keys.revoke, key_id, actor=p.key_id))


@router.get("/usage")
def usage(request: Request, p: Admin, tenant: str | None = None):
    services = _s(request)
    tenant_id = _call(services.tenants.get, tenant).id if tenant else None
    return {"object": "list", "data": services.usage.rows(tenant_id)}


@router.post("/audit/verify")
def audit_verify(request: Request, p: Admin):
    services = _s(request)
    services.audit.flush()
    r = verify_store(services.db, [services.key.public])
    return {"ok": r.ok, "events": r.events, "checkpoints": r.checkpoints, "last_seq": r.last_seq,
            "problem": r.problem, "bad_seq": r.bad_seq, "notes": r.notes}


@router.post("/audit/checkpoint")
def audit_checkpoint(request: Request, p: Admin):
    return {"seq": _s(request).audit.checkpoint()}
