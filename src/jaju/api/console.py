"""Serves the web console: static files only; it talks to the same API as any partner."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, RedirectResponse
from starlette.staticfiles import StaticFiles

STATIC = Path(__file__).resolve().parents[1] / "console" / "static"
# The console runs only its own script and talks only to this origin.
SECURITY_HEADERS = {"Content-Security-Policy": "default-src 'self'; style-src 'self'; script-src 'self'; "
                                               "connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
                    "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}

router = APIRouter(tags=["console"], include_in_schema=False)


@router.get("/")
def root():
    return RedirectResponse("/console")


@router.get("/console")
def console():
    return FileResponse(STATIC / "index.html", headers=SECURITY_HEADERS)


def static_files() -> StaticFiles:
    return StaticFiles(directory=STATIC)
