"""Helpers for tests (importable; fixtures live in conftest.py)."""

from __future__ import annotations

import socket
from pathlib import Path

from jaju.engine.catalog import QWEN
from jaju.settings import Settings, load_settings


def link_models(data_dir: Path, gguf: Path) -> None:
    """Point a fresh data directory at the cached model instead of copying 491 MB per test."""
    models = data_dir / "models"
    models.mkdir(parents=True, exist_ok=True)
    target = models / QWEN.filename
    if not target.exists():
        target.symlink_to(gguf)


def make_settings(data_dir: Path, **overrides) -> Settings:
    overrides.setdefault("engine", {"threads": 2, "parallel": 4, "kv_cache_tokens": 8192, "context_size": 4096})
    return load_settings(None, data_dir=str(data_dir), **overrides)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def close_services(services) -> None:
    """Stop what build_services started for a test: usage buffer, audit writer, engine threads, store."""
    services.usage.flush()
    services.audit.close()
    for backend in services.models.loaded().values():
        scheduler = getattr(backend, "scheduler", None)
        if scheduler is not None:
            scheduler.close()
    services.db.dispose()
