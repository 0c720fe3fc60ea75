"""The Responses API on the session's in-process app (real engine, real stores)."""

from __future__ import annotations

import pytest

from jaju.api.responses import router
from jaju.responses.service import ResponsesService
from jaju.responses.store import ResponseStore


@pytest.fixture(scope="session", autouse=True)
def responses_wired(app, services):
    """Until build_services and create_app construct and register these (the lead's files), do it here."""
    if not hasattr(services, "responses"):
        services.responses = ResponsesService(services.inference, ResponseStore(services.stores, services.keyring))
    if not any(getattr(r, "path", None) == "/v1/responses" for r in app.routes):
        app.include_router(router)
    subjects = services.subjects
    if not any(p.name == ResponseStore.name for p in subjects.providers):
        subjects.providers.append(services.responses.store)
    return services.responses


def auth(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}
