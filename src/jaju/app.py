"""create_app(settings) -> the ASGI app: services built once, routers registered explicitly."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI

from jaju import __version__
from jaju.api import admin, errors, health, knowledge, openai, privacy
from jaju.api.middleware import BodyLimit, RequestMetrics
from jaju.services import Services, build_services
from jaju.settings import Settings

ROUTERS = (openai.router, privacy.router, knowledge.router, admin.router, health.router)


def create_app(settings: Settings | None = None, *, services: Services | None = None,
               load_models: bool = True) -> FastAPI:
    """Build the app. Pass `services` to share them (tests); otherwise they are built from settings."""
    if services is None:
        if settings is None:
            raise ValueError("create_app needs settings or services")
        services = build_services(settings)
    owned = settings is not None

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if load_models and services.settings.engine.default_model not in services.models.loaded():
            services.load_models()
        try:
            yield
        finally:
            if owned:
                await services.aclose()
            else:
                services.usage.flush()

    app = FastAPI(title="jaju", version=__version__, lifespan=lifespan,
                  description="자주: sovereign AI platform, Korean first. OpenAI-compatible API.")
    app.state.services = services
    errors.install(app)
    for router in ROUTERS:
        app.include_router(router)
    app.add_middleware(RequestMetrics, metrics=services.metrics)
    limits = services.settings.limits
    app.add_middleware(BodyLimit, limit=limits.max_body_bytes, upload_limit=limits.max_upload_bytes,
                       uploads=("/v1/knowledge-bases",))
    return app
