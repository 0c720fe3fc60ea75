"""TenantService: create, find and list tenants; each belongs to a jurisdiction."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from jaju.audit import AuditLog, Event
from jaju.errors import JajuError
from jaju.store import Database
from jaju.store.tables import Tenant

_NAME = re.compile(r"^[\w가-힣][\w가-힣.\-]{0,99}$")


class TenantError(JajuError):
    """A tenant operation that cannot be done; the message says why."""


@dataclass(frozen=True, slots=True)
class TenantView:
    id: str
    name: str
    jurisdiction: str
    status: str
    created_at: str
    settings: dict

    @classmethod
    def of(cls, t: Tenant) -> TenantView:
        return cls(t.id, t.name, t.jurisdiction, t.status, t.created_at.isoformat(), dict(t.settings or {}))


class TenantService:
    def __init__(self, db: Database, audit: AuditLog, known_jurisdictions: set[str]):
        self.db = db
        self.audit = audit
        self.known = known_jurisdictions
        # Called with a tenant id after its settings or status change (caches of derived state listen).
        self.listeners: list[Callable[[str], None]] = []

    def create(self, name: str, jurisdiction: str, settings: dict | None = None,
               actor: str | None = None) -> TenantView:
        jurisdiction = jurisdiction.upper()
        if not _NAME.match(name):
            raise TenantError(f"Tenant name {name!r} is not allowed: use letters (Hangul is fine), digits, "
                              "'.', '_' or '-', at most 100 characters.")
        if jurisdiction not in self.known:
            raise TenantError(f"Jurisdiction {jurisdiction!r} is not configured here; known: "
                              f"{', '.join(sorted(self.known))}.")
        tenant = Tenant(id="ten_" + secrets.token_hex(8), name=name, jurisdiction=jurisdiction,
                        status="active", settings=settings or {})
        try:
            with self.db.session() as s:
                s.add(tenant)
        except IntegrityError:
            raise TenantError(f"A tenant named {name!r} already exists.") from None
        self.audit.append_now(Event(action="tenant.create", tenant_id=tenant.id, key_id=actor,
                                    fields={"jurisdiction": jurisdiction}))
        return TenantView.of(tenant)

    def get(self, ref: str) -> TenantView:
        """Find a tenant by id or by name."""
        with self.db.sessions() as s:
            t = s.get(Tenant, ref) or s.scalars(select(Tenant).where(Tenant.name == ref)).first()
            if t is None:
                raise TenantError(f"No tenant {ref!r}. See `jaju tenant list`.")
            return TenantView.of(t)

    def list(self) -> list[TenantView]:
        with self.db.sessions() as s:
            return [TenantView.of(t) for t in s.scalars(select(Tenant).order_by(Tenant.created_at))]

    def update_settings(self, ref: str, changes: dict, actor: str | None = None) -> TenantView:
        with self.db.session() as s:
            t = s.get(Tenant, self.get(ref).id)
            t.settings = {**(t.settings or {}), **changes}
            view = TenantView.of(t)
        self.audit.append_now(Event(action="tenant.update", tenant_id=view.id, key_id=actor,
                                    fields={"keys": sorted(changes)}))
        self._changed(view.id)
        return view

    def set_quota(self, ref: str, monthly_tokens: int | None, actor: str | None = None) -> TenantView:
        """Cap the tokens a tenant may use per calendar month; None or 0 removes the cap."""
        if monthly_tokens is not None and monthly_tokens < 0:
            raise TenantError("A quota is a number of tokens, 0 or more.")
        return self.update_settings(ref, {"monthly_token_quota": monthly_tokens or None}, actor=actor)

    def set_status(self, ref: str, status: str, actor: str | None = None) -> TenantView:
        with self.db.session() as s:
            t = s.get(Tenant, self.get(ref).id)
            t.status = status
            view = TenantView.of(t)
        self.audit.append_now(Event(action=f"tenant.{status}", tenant_id=view.id, key_id=actor))
        self._changed(view.id)
        return view

    def _changed(self, tenant_id: str) -> None:
        for listener in self.listeners:
            listener(tenant_id)
