"""API-key authentication: Authorization: Bearer <key> -> Principal, with scope checks."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from fastapi import Request

from jaju.errors import ApiError
from jaju.tenancy.principal import DEFAULT_SCOPES, SCOPES, Principal

__all__ = ["DEFAULT_SCOPES", "SCOPES", "Principal", "bearer_token", "require_scope"]


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


def require_scope(scope: str) -> Callable[[Request], Awaitable[Principal]]:
    """A FastAPI dependency that authenticates and checks one scope (admin keys hold all).

    Async, so FastAPI does not run it on its thread pool: the key service decides where the lookup runs.
    """
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}")

    async def dependency(request: Request) -> Principal:
        services = request.app.state.services
        started = time.time_ns()
        principal = await services.keys.authenticate_async(bearer_token(request))
        request.state.auth_ns = (started, time.time_ns())  # for the request's trace span
        if not principal.has(scope):
            raise ApiError(403, f"This API key lacks the '{scope}' scope needed here.",
                           "permission_error", "insufficient_scope")
        request.state.principal = principal
        return principal

    dependency.__name__ = f"require_{scope}"
    return dependency
