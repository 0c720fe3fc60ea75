"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz():
    return {"status": "ok"}


@router.get("/readyz")
def readyz(request: Request):
    services = request.app.state.services
    default = services.settings.engine.default_model
    loaded = default in services.models.loaded()
    store = services.db.ping()
    ok = loaded and store
    body = {"status": "ready" if ok else "not_ready", "model": default, "model_loaded": loaded,
            "store_reachable": store}
    return JSONResponse(body, status_code=200 if ok else 503)


@router.get("/metrics")
def metrics(request: Request):
    return Response(request.app.state.services.metrics.render(), media_type="text/plain; version=0.0.4")
