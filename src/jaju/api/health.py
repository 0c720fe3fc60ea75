"""Liveness, readiness, Prometheus metrics and the OpenAPI schema, each as open as `[server]` says."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import start_http_server
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from jaju.api.auth import bearer_token, require_scope
from jaju.metrics import Metrics
from jaju.settings import ServerSettings

router = APIRouter(tags=["health"])
_admin = require_scope("admin")


@router.get("/healthz")
def healthz():
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request):
    """Ready when the default model is loaded and the store answers; in an API worker, also the engine process."""
    services = request.app.state.services
    default = services.settings.engine.default_model
    loaded = default in services.models.loaded()
    store = await run_in_threadpool(services.db.ping)
    checks = {"model_loaded": loaded, "store_reachable": store}
    if services.engine is not None:  # the model is loaded there; it may be down or restarting
        checks["engine_reachable"] = await services.engine.reachable()
    ok = all(checks.values())
    body = {"status": "ready" if ok else "not_ready", "model": default, **checks}
    return JSONResponse(body, status_code=200 if ok else 503)


@router.get("/metrics")
async def metrics(request: Request):
    """Prometheus metrics: an admin key unless `server.public_metrics`; absent here with `server.metrics_bind`."""
    services = request.app.state.services
    server: ServerSettings = services.settings.server
    if server.metrics_bind:
        raise HTTPException(404)
    if not server.public_metrics:
        await _admin(request)
    body = await asyncio.to_thread(services.metrics.render)  # multiprocess mode reads every worker's files
    return Response(body, media_type="text/plain; version=0.0.4")


@router.get("/openapi.json", include_in_schema=False)
def openapi(request: Request):
    """The API's schema: any valid API key unless `server.public_openapi` (it maps every route there is)."""
    services = request.app.state.services
    if not services.settings.server.public_openapi:
        services.keys.authenticate(bearer_token(request))
    return JSONResponse(request.app.openapi())


def serve_metrics(metrics: Metrics, bind: str) -> Callable[[], None]:
    """Serve /metrics without a key on `bind` (host:port) in a thread; returns the function that stops it."""
    host, _, port = bind.rpartition(":")
    server, thread = start_http_server(int(port), host.strip("[]"), registry=metrics.registry)

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    return stop
