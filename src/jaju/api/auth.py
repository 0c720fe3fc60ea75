"""API-key authentication: Authorization: Bearer <key> -> Principal, with scope checks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Request

from jaju.errors import ApiError

SCOPES = ("inference", "admin", "privacy", "knowledge", "audit")
DEFAULT_SCOPES = ("inference", "privacy", "knowledge")


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the tenant and key behind a request."""

    tenant_id: str
    tenant_name: str
    key_id: str
    scopes: frozenset[str]
    tenant_jurisdiction: str

    def has(self, scope: str) -> bool:
        return scope in self.scopes or "admin" in self.scopes


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if not header:
        raise ApiError(401, "Missing API key. Send it as 'Authorization: Bearer <key>'.",
                       "authentication_error", "missing_api_key")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "Malformed Authorization header. Use 'Authorization: Bearer <key>'.",
                       "authentication_error", "invalid_api_key")
    return token.strip()


def require_scope(scope: str) -> Callable[[Request], Principal]:
    """A FastAPI dependency that authenticates and checks one scope (admin keys hold all)."""
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}")

    def dependency(request: Request) -> Principal:
        services = request.app.state.services
        principal = services.keys.authenticate(bearer_token(request))
        if not principal.has(scope):
            raise ApiError(403, f"This API key lacks the '{scope}' scope needed here.",
                           "permission_error", "insufficient_scope")
        request.state.principal = principal
        return principal

    dependency.__name__ = f"require_{scope}"
    return dependency
