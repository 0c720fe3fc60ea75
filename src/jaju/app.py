"""create_app(settings) -> the ASGI app: services built once, routers registered explicitly."""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from fastapi import FastAPI

from jaju import __version__
from jaju.api import (admin, batches, compliance, console, errors, files, health, knowledge, korean, moderations,
                      openai, privacy, rerank, responses)
from jaju.api.middleware import BodyLimit, CleanErrors, RequestMetrics
from jaju.batches.worker import BatchWorker
from jaju.heap import freeze_startup_objects
from jaju.services import Services, build_services
from jaju.settings import Settings

log = logging.getLogger("jaju")
ROUTERS = (openai.router, responses.router, files.router, batches.router, moderations.router, rerank.router,
           korean.router, privacy.router, knowledge.router, compliance.router, admin.router, health.router, console.router)


async def _every(seconds: float, job, services: Services) -> None:
    """Run a maintenance job periodically; a failure is logged and retried next time, never fatal."""
    while True:
        await asyncio.sleep(seconds)
        try:
            await job(services)
        except Exception:  # keep serving; the next round retries
            log.exception("background job %s failed", job.__name__)


async def _health(services: Services) -> None:
    await services.sovereignty.router.check_health()


async def _flush_usage(services: Services) -> None:
    await asyncio.to_thread(services.usage.flush)


async def _retention(services: Services) -> None:
    """Expire content per the packs (and record each purge in the audit trail)."""
    await asyncio.to_thread(services.retention.run, datetime.now(UTC))


def create_app(settings: Settings | None = None, *, services: Services | None = None,
               load_models: bool = True, warm_up: bool = False) -> FastAPI:
    """Build the app. Pass `services` to share them (tests); otherwise they are built from settings.

    `warm_up` builds the heavy parts every chat request needs at start-up (serving processes do).
    """
    if services is None:
        if settings is None:
            raise ValueError("create_app needs settings or services")
        services = build_services(settings)
    owned = settings is not None

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if load_models and services.settings.engine.default_model not in services.models.loaded():
            services.load_models()
        if warm_up:  # a serving process: take the first request at full speed
            await asyncio.to_thread(services.warm_up)
            freeze_startup_objects()  # and no full GC pass over what start-up built (jaju/heap.py)
        tasks = [asyncio.create_task(_every(10.0, _health, services)),
                 asyncio.create_task(_every(2.0, _flush_usage, services))]
        bind = services.metrics_bind  # None in an API worker: the supervisor serves them for all workers
        stop_metrics = health.serve_metrics(services.metrics, bind) if bind else None
        hours = services.compliance.settings.retention_every_hours
        if hours > 0 and services.retention is not None:
            tasks.append(asyncio.create_task(_every(hours * 3600, _retention, services)))
        # Batch lines run in every serving process, claimed from one queue in the store (leases).
        batch_worker = BatchWorker(services, services.batches)
        tasks.append(asyncio.create_task(batch_worker.run_forever()))
        try:
            yield
        finally:
            batch_worker.stop()
            for task in tasks:
                task.cancel()
            if stop_metrics is not None:
                stop_metrics()
            if owned:
                await services.aclose()
            else:
                services.usage.flush()

    # No /docs or /redoc: FastAPI's pages load their scripts from a CDN, and jaju makes no outside calls.
    # The schema is served by health.openapi, behind a key unless [server] public_openapi.
    app = FastAPI(title="jaju", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url=None,
                  description="자주: sovereign AI platform, Korean first. OpenAI-compatible API.")
    app.state.services = services
    errors.install(app)
    for router in ROUTERS:
        app.include_router(router)
    app.mount("/console/static", console.static_files(), name="console-static")
    app.add_middleware(RequestMetrics, metrics=services.metrics)
    limits = services.settings.limits
    app.add_middleware(BodyLimit, limit=limits.max_body_bytes, upload_limit=limits.max_upload_bytes,
                       uploads=("/v1/knowledge-bases", "/v1/files"))
    app.add_middleware(CleanErrors)  # outermost: whatever fails inside, the response completes
    return app
