"""ApiKeyService: issue, authenticate and revoke API keys. Only a hash of each secret is stored."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select

from jaju.tenancy.principal import DEFAULT_SCOPES, SCOPES, Principal
from jaju.audit import AuditLog, Event
from jaju.errors import ApiError
from jaju.store import Database
from jaju.store.base import utcnow
from jaju.store.tables import ApiKey, Tenant
from jaju.tenancy.tenants import TenantError, TenantService

PREFIX = "jaju-"


@dataclass(frozen=True, slots=True)
class KeyView:
    id: str
    tenant_id: str
    name: str
    scopes: list[str]
    created_at: str
    revoked_at: str | None

    @classmethod
    def of(cls, k: ApiKey) -> KeyView:
        return cls(k.id, k.tenant_id, k.name, list(k.scopes), k.created_at.isoformat(),
                   k.revoked_at.isoformat() if k.revoked_at else None)


def _hash(secret: str) -> str:
    # Secrets are 256-bit random, so a plain sha256 is enough; no password stretching needed.
    return hashlib.sha256(secret.encode()).hexdigest()


_AUTH_QUERY = (select(ApiKey.id, ApiKey.secret_hash, ApiKey.scopes, ApiKey.revoked_at, ApiKey.tenant_id,
                      Tenant.name.label("tenant_name"), Tenant.status.label("tenant_status"),
                      Tenant.jurisdiction.label("tenant_jurisdiction"))
               .join(Tenant, Tenant.id == ApiKey.tenant_id).where(ApiKey.id == bindparam("key_id")))


@dataclass(frozen=True, slots=True)
class _KeyRow:
    """What authentication reads of a key and its tenant."""

    id: str
    secret_hash: str
    scopes: list[str]
    revoked: bool
    tenant_id: str
    tenant_name: str
    tenant_status: str
    tenant_jurisdiction: str


def _invalid() -> ApiError:
    return ApiError(401, "Invalid API key.", "authentication_error", "invalid_api_key")


class ApiKeyService:
    def __init__(self, db: Database, audit: AuditLog, tenants: TenantService):
        self.db = db
        self.audit = audit
        self.tenants = tenants
        # On SQLite the lookup runs on the driver's cursor: 496-613 -> 221-295 us after 5 ms idle (as between a
        # lone client's requests), 44 -> 18-19 us back to back (benchmarks/store_paths_bench.py, round 5).
        self._sqlite_auth: tuple[str, Callable[[Any], Any]] | None = None
        if db.dialect == "sqlite":
            dialect = db.engine.dialect
            scopes = ApiKey.__table__.c.scopes.type.dialect_impl(dialect).result_processor(dialect, None)
            self._sqlite_auth = (str(_AUTH_QUERY.compile(dialect=dialect)), scopes or (lambda v: v))

    def create(self, tenant_ref: str, scopes: list[str] | None = None, name: str = "",
               actor: str | None = None) -> tuple[KeyView, str]:
        """Issue a key; returns the view and the full secret, which is never retrievable again."""
        scopes = list(dict.fromkeys(scopes or DEFAULT_SCOPES))
        bad = [s for s in scopes if s not in SCOPES]
        if bad:
            raise TenantError(f"Unknown scope {', '.join(bad)}; choose from {', '.join(SCOPES)}.")
        tenant = self.tenants.get(tenant_ref)
        if tenant.status != "active":
            raise TenantError(f"Tenant {tenant.name} is {tenant.status}; no new keys.")
        key_id = "key_" + secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        row = ApiKey(id=key_id, tenant_id=tenant.id, name=name, secret_hash=_hash(secret), scopes=scopes)
        with self.db.session() as s:
            s.add(row)
        self.audit.append_now(Event(action="key.create", tenant_id=tenant.id, key_id=actor,
                                    fields={"new_key": key_id, "scopes": scopes}))
        return KeyView.of(row), f"{PREFIX}{key_id}.{secret}"

    def revoke(self, key_id: str, actor: str | None = None, tenant_id: str | None = None) -> KeyView:
        with self.db.session() as s:
            row = s.get(ApiKey, key_id)
            if row is None or (tenant_id is not None and row.tenant_id != tenant_id):
                raise TenantError(f"No API key {key_id!r}. See `jaju key list`.")
            if row.revoked_at is None:
                row.revoked_at = utcnow()
            view = KeyView.of(row)
        self.audit.append_now(Event(action="key.revoke", tenant_id=view.tenant_id, key_id=actor,
                                    fields={"revoked_key": key_id}))
        return view

    def list(self, tenant_ref: str | None = None) -> list[KeyView]:
        with self.db.sessions() as s:
            q = select(ApiKey).order_by(ApiKey.created_at)
            if tenant_ref:
                q = q.where(ApiKey.tenant_id == self.tenants.get(tenant_ref).id)
            return [KeyView.of(k) for k in s.scalars(q)]

    async def authenticate_async(self, token: str) -> Principal:
        """`authenticate` for the event loop: a local SQLite lookup runs inline (tens of microseconds on a
        pooled connection, less than handing it to a thread and back); a networked store's on a thread."""
        if self.db.dialect == "sqlite":
            return self.authenticate(token)
        return await asyncio.to_thread(self.authenticate, token)

    def authenticate(self, token: str) -> Principal:
        """Bearer token -> Principal, or 401. Revocation takes effect on the next request."""
        if not token.startswith(PREFIX) or "." not in token:
            raise _invalid()
        key_id, _, secret = token[len(PREFIX):].partition(".")
        key = self._lookup(key_id)
        if key is None or not hmac.compare_digest(key.secret_hash, _hash(secret)):
            raise _invalid()
        if key.revoked:
            raise ApiError(401, "This API key has been revoked.", "authentication_error", "revoked_api_key")
        if key.tenant_status != "active":
            raise ApiError(403, f"Tenant {key.tenant_name} is {key.tenant_status}.", "permission_error",
                           "tenant_inactive")
        return Principal(key.tenant_id, key.tenant_name, key.id, frozenset(key.scopes), key.tenant_jurisdiction)

    def _lookup(self, key_id: str) -> _KeyRow | None:
        """The key and its tenant, read on every request: no cache, so revocation applies at once. One Core
        query on a pooled connection (an ORM session's set-up costs several times the query), or on SQLite
        the same query on the driver's own cursor."""
        if self._sqlite_auth is not None:
            sql, scopes = self._sqlite_auth
            row = self.db.sqlite_first(sql, (key_id,))
            if row is None:
                return None
            kid, secret_hash, raw_scopes, revoked_at, tenant_id, name, status, jurisdiction = row
            return _KeyRow(kid, secret_hash, scopes(raw_scopes), revoked_at is not None, tenant_id, name, status,
                           jurisdiction)
        with self.db.engine.connect() as conn:
            k = conn.execute(_AUTH_QUERY, {"key_id": key_id}).first()
        if k is None:
            return None
        return _KeyRow(k.id, k.secret_hash, k.scopes, k.revoked_at is not None, k.tenant_id, k.tenant_name,
                       k.tenant_status, k.tenant_jurisdiction)
