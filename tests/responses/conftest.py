"""The Responses API on the session's in-process app (real engine, real stores; wired by build_services)."""

from __future__ import annotations


def auth(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}
