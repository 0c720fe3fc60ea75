"""Sovereignty fixtures: one migrated store per backend (SQLite and PostgreSQL), emptied between tests."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, delete, text

from jaju.sovereignty.tables import DataKey, TransferBasis
from jaju.store import Database
from jaju.store.tables import Tenant
from tests.support import LlamaServer, free_port

TENANTS = [("ten_kr", "행정안전부", "KR"), ("ten_eu", "EU Bank", "EU"), ("ten_kr2", "서울시", "KR")]


class Recorder:
    """A stand-in audit log that keeps events in a list."""

    def __init__(self) -> None:
        self.events = []

    def append(self, event) -> None:
        self.events.append(event)

    def actions(self) -> list[str]:
        return [e.action for e in self.events]


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def migrated(request, tmp_path_factory) -> Iterator[Database]:
    """A migrated store shared by a module's tests; schema creation is the slow part."""
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path_factory.mktemp('sov') / 'jaju.db'}")
        db.migrate()
        yield db
        db.dispose()
        return
    base = request.getfixturevalue("pg_database")
    schema = f"sov_{secrets.token_hex(4)}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE SCHEMA "{schema}"'))
    db = Database(f"{base}?options=-csearch_path%3D{schema}")
    db.migrate()
    try:
        yield db
    finally:
        db.dispose()
        with admin.connect() as c:
            c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def db(migrated: Database) -> Database:
    """The module's store with only the three test tenants in it."""
    with migrated.session() as s:
        for table in (DataKey, TransferBasis, Tenant):
            s.execute(delete(table))
    with migrated.session() as s:
        s.add_all([Tenant(id=i, name=n, jurisdiction=j, settings={}) for i, n, j in TENANTS])
    return migrated


@pytest.fixture
def keys_dir(tmp_path: Path) -> Path:
    return tmp_path / "keys"


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


# --- real llama.cpp servers, one per jurisdiction -------------------------------------------

@pytest.fixture(scope="session")
def llama_servers(qwen_gguf: Path, tmp_path_factory) -> Iterator[dict[str, LlamaServer]]:
    """Two real engine servers: "KR" and "EU"."""
    logs = tmp_path_factory.mktemp("llama-logs")
    servers = {code: LlamaServer(code, qwen_gguf, free_port(), logs / f"{code}.log") for code in ("KR", "EU")}
    try:
        for s in servers.values():
            s.start()
        yield servers
    finally:
        for s in servers.values():
            s.kill()
