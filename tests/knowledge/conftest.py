"""Shared fixtures: one Kiwi, one e5 engine, a test cipher, a migrated store with two tenants."""

from __future__ import annotations

import os
import secrets
import uuid
import warnings

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from jaju.knowledge.config import KnowledgeSettings
from jaju.knowledge.dense import E5Embedder
from jaju.knowledge.service import KnowledgeService
from jaju.korean import KoreanAnalyzer
from jaju.privacy.factory import build_analyzer
from jaju.privacy.hashing import TenantHasher
from jaju.privacy.service import PrivacyService
from jaju.privacy.vault import PseudonymVault
from jaju.store.db import Database
from jaju.store.tables import Tenant

PG_URL = os.environ.get("JAJU_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


class FakeKeyService:
    """AES-256-GCM with a key per (tenant, subject), standing in for the sovereignty KeyService."""

    def __init__(self) -> None:
        self._master = secrets.token_bytes(32)
        self.shredded: set[tuple[str, str | None]] = set()
        self.calls = 0

    def _key(self, tenant_id: str, subject: str | None) -> bytes:
        if (tenant_id, subject) in self.shredded:
            raise KeyError(f"key for {tenant_id}/{subject} destroyed")
        info = f"{tenant_id}|{subject or ''}".encode()
        return HKDF(hashes.SHA256(), 32, None, info).derive(self._master)

    def encrypt(self, tenant_id, data, *, subject=None, aad=b""):
        self.calls += 1
        nonce = secrets.token_bytes(12)
        return nonce + AESGCM(self._key(tenant_id, subject)).encrypt(nonce, data, aad)

    def decrypt(self, tenant_id, data, *, subject=None, aad=b""):
        return AESGCM(self._key(tenant_id, subject)).decrypt(data[:12], data[12:], aad)


@pytest.fixture(scope="session")
def analyzer() -> KoreanAnalyzer:
    # Kiwi warns about num_workers=0 with stacklevel 2, so the warning is attributed to jaju's wrapper
    # and the kiwipiepy filter in pyproject does not catch it.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return KoreanAnalyzer()


@pytest.fixture(scope="session")
def embedder() -> E5Embedder:
    return E5Embedder(num_threads=1)


@pytest.fixture
def cipher() -> FakeKeyService:
    return FakeKeyService()


def _seed(db: Database) -> None:
    with db.session() as s:
        s.add(Tenant(id="t_seoul", name="서울시청", jurisdiction="KR", status="active", settings={}))
        s.add(Tenant(id="t_busan", name="부산은행", jurisdiction="KR", status="active", settings={}))


@pytest.fixture
def db(tmp_path) -> Database:
    database = Database(f"sqlite:///{tmp_path / 'kb.db'}")
    database.migrate()
    _seed(database)
    yield database
    database.dispose()


@pytest.fixture
def pg_db():
    """A uniquely named PostgreSQL database, dropped afterwards."""
    import psycopg

    name = f"jaju_kb_{uuid.uuid4().hex[:10]}"
    admin = PG_URL.replace("postgresql+psycopg://", "postgresql://")
    try:
        conn = psycopg.connect(admin, autocommit=True)
    except psycopg.OperationalError as e:
        pytest.skip(f"PostgreSQL is not reachable at {admin}: {e}")
    conn.execute(f'CREATE DATABASE "{name}"')
    database = Database(PG_URL.rsplit("/", 1)[0] + f"/{name}")
    try:
        database.migrate()
        _seed(database)
        yield database
    finally:
        database.dispose()
        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        conn.close()


@pytest.fixture
def settings() -> KnowledgeSettings:
    return KnowledgeSettings(chunk_tokens=120, overlap_tokens=20)


@pytest.fixture(scope="session")
def pii_analyzer(analyzer):
    return build_analyzer(analyzer)


@pytest.fixture
def privacy(db, cipher, pii_analyzer) -> PrivacyService:
    """The real privacy service (recognizers, keyed digests) over the test store."""
    hasher = TenantHasher(secrets.token_bytes(32))
    return PrivacyService(pii_analyzer, PseudonymVault(db, cipher, hasher), hasher)


@pytest.fixture
def service(db, analyzer, embedder, cipher, settings, privacy) -> KnowledgeService:
    return KnowledgeService(db, analyzer, embedder, cipher, settings, privacy=privacy)
