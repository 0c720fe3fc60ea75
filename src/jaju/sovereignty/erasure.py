"""Tenant erasure by crypto-shredding: destroy the keys, record it, mark the tenant erased."""

from __future__ import annotations

from typing import Any, Protocol

from jaju.audit.events import Event


class Keyring(Protocol):
    def destroy_tenant(self, tenant_id: str) -> None: ...


class DurableAudit(Protocol):
    def append_now(self, event: Event) -> Any: ...


class Tenants(Protocol):
    def get(self, ref: str) -> Any: ...

    def set_status(self, ref: str, status: str, actor: str | None = None) -> Any: ...


def erase_tenant(tenants: Tenants, keyring: Keyring, audit: DurableAudit, ref: str, *, actor: str | None = None) -> Any:
    """After this returns, no stored content of the tenant can be decrypted, and the audit trail says so."""
    tenant = tenants.get(ref)
    keyring.destroy_tenant(tenant.id)
    # Durable before we report success: an erasure must never be missing from the trail.
    audit.append_now(Event("tenant.erase", tenant_id=tenant.id, key_id=actor,
                           fields={"method": "crypto-shredding", "jurisdiction": tenant.jurisdiction}))
    return tenants.set_status(tenant.id, "erased", actor=actor)
