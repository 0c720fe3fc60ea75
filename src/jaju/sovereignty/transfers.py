"""Legal bases for cross-border processing, recorded per tenant, and the jurisdictions a tenant may use."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from jaju.audit.events import Event
from jaju.errors import JajuError
from jaju.sovereignty.keys import TenantJurisdictions
from jaju.sovereignty.tables import TransferBasis
from jaju.store.db import Database


class AuditSink(Protocol):
    def append(self, event: Event) -> Any: ...


class TransferError(JajuError):
    """A transfer basis cannot be recorded or removed; the message says why."""


@dataclass(frozen=True, slots=True)
class TransferView:
    tenant_id: str
    to: str
    basis: str
    evidence: str
    created_at: str
    created_by: str | None

    @classmethod
    def of(cls, row: TransferBasis) -> TransferView:
        return cls(row.tenant_id, row.to_jurisdiction, row.basis, row.evidence, row.created_at.isoformat(),
                   row.created_by)


# (tenant_id, home, allowed by recorded bases) -> allowed after policy; compliance narrows it.
PolicyHook = Callable[[str, str, set[str]], set[str]]


class TransferService:
    """Records bases (`jaju tenant transfer add/remove/list`) and answers allowed_jurisdictions(tenant)."""

    def __init__(self, db: Database, audit: AuditSink, known_jurisdictions: set[str],
                 policy: PolicyHook | None = None, home_of: Callable[[str], str] | None = None,
                 policy_basis: Callable[[str, str], str | None] | None = None, ttl: float = 2.0):
        self._db = db
        # Tenants never change jurisdiction, so the home lookup is cached (shared with KeyService).
        self._home_of = home_of or TenantJurisdictions(db)
        self._audit = audit
        self.known = {j.upper() for j in known_jurisdictions}
        # The compliance hooks (TenantLaws): a tenant's packs may add adequate destinations, and name
        # the basis (e.g. GDPR Art. 45 adequacy) for the audit trail.
        self.policy = policy
        self.policy_basis = policy_basis
        # Recorded bases are read on every routed request; keep them briefly per tenant. Changes made in
        # this process clear the entry at once; other replicas see them within `ttl` seconds.
        self._ttl = ttl
        self._recorded: dict[str, tuple[float, tuple[TransferView, ...]]] = {}

    def home(self, tenant_id: str) -> str:
        try:
            return self._home_of(tenant_id)
        except JajuError:
            raise TransferError(f"No tenant {tenant_id}.") from None

    def add(self, tenant_id: str, to: str, basis: str, evidence: str = "", *, actor: str | None = None) -> TransferView:
        to = to.upper()
        home = self.home(tenant_id)
        if to not in self.known:
            raise TransferError(f"Jurisdiction {to} is not configured here; known: {', '.join(sorted(self.known))}.")
        if to == home:
            raise TransferError(f"{to} is the tenant's home jurisdiction; no transfer basis is needed.")
        if not basis.strip():
            raise TransferError("Give the legal basis, e.g. --basis \"PIPA 28-8(1)1 consent\".")
        row = TransferBasis(tenant_id=tenant_id, to_jurisdiction=to, basis=basis.strip(), evidence=evidence.strip(),
                            created_by=actor)
        try:
            with self._db.session() as s:
                s.add(row)
        except IntegrityError:
            raise TransferError(f"A basis for {home}->{to} is already recorded for this tenant; remove it first "
                                "to replace it.") from None
        self._recorded.pop(tenant_id, None)
        self._audit.append(Event("transfer.basis.add", tenant_id=tenant_id, key_id=actor,
                                 fields={"from": home, "to": to, "basis": row.basis, "evidence": row.evidence}))
        return TransferView.of(row)

    def remove(self, tenant_id: str, to: str, *, actor: str | None = None) -> None:
        to = to.upper()
        home = self.home(tenant_id)
        with self._db.session() as s:
            gone = s.execute(delete(TransferBasis).where(TransferBasis.tenant_id == tenant_id,
                                                         TransferBasis.to_jurisdiction == to)).rowcount
        self._recorded.pop(tenant_id, None)
        if not gone:
            raise TransferError(f"No transfer basis to {to} is recorded for this tenant.")
        self._audit.append(Event("transfer.basis.remove", tenant_id=tenant_id, key_id=actor,
                                 fields={"from": home, "to": to}))

    def list(self, tenant_id: str) -> list[TransferView]:
        with self._db.sessions() as s:
            rows = s.scalars(select(TransferBasis).where(TransferBasis.tenant_id == tenant_id)
                             .order_by(TransferBasis.to_jurisdiction)).all()
        return [TransferView.of(r) for r in rows]

    def _bases(self, tenant_id: str) -> tuple[TransferView, ...]:
        now = time.monotonic()
        hit = self._recorded.get(tenant_id)
        if hit is not None and hit[0] > now:
            return hit[1]
        bases = tuple(self.list(tenant_id))
        self._recorded[tenant_id] = (now + self._ttl, bases)
        return bases

    def basis(self, tenant_id: str, to: str) -> TransferView | None:
        """The recorded basis, else the one the tenant's packs give (e.g. GDPR Art. 45 adequacy)."""
        recorded = next((v for v in self._bases(tenant_id) if v.to == to.upper()), None)
        if recorded is None and self.policy_basis is not None:
            text = self.policy_basis(tenant_id, to.upper())
            if text:
                return TransferView(tenant_id, to.upper(), text, "policy pack", "", None)
        return recorded

    def allowed_jurisdictions(self, tenant_id: str) -> set[str]:
        """Home plus every jurisdiction with a recorded basis, narrowed by the tenant's policy."""
        home = self.home(tenant_id)
        allowed = {home} | {v.to for v in self._bases(tenant_id)}
        if self.policy is not None:
            # The packs decide: they may add destinations that need no recorded basis (adequacy) and
            # remove ones the law forbids whatever was recorded.
            allowed = set(self.policy(tenant_id, home, allowed))
            allowed.add(home)  # processing at home is never a transfer
        return allowed
