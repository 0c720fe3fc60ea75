"""Who is calling: the tenant and API key behind a request, and the scopes a key may hold."""

from __future__ import annotations

from dataclasses import dataclass

SCOPES = ("inference", "admin", "privacy", "knowledge", "audit")
DEFAULT_SCOPES = ("inference", "privacy", "knowledge")


@dataclass(frozen=True, slots=True)
class Principal:
    """The tenant and key behind a request (what authentication establishes)."""

    tenant_id: str
    tenant_name: str
    key_id: str
    scopes: frozenset[str]
    tenant_jurisdiction: str

    def has(self, scope: str) -> bool:
        return scope in self.scopes or "admin" in self.scopes
