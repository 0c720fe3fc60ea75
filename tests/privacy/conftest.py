"""Shared fixtures: one Kiwi, one analyzer, a migrated SQLite store, a real AES-GCM cipher."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from jaju.korean import KoreanAnalyzer
from jaju.privacy.analyzer import Analyzer
from jaju.privacy.factory import build_analyzer
from jaju.privacy.hashing import TenantHasher
from jaju.privacy.service import PrivacyService
from jaju.privacy.vault import PseudonymVault
from jaju.store.db import Database


class KeyDestroyedError(Exception):
    pass


class AesGcmKeys:
    """Envelope-free AES-256-GCM with a key per tenant and per subject; stands in for KeyService's interface."""

    def __init__(self) -> None:
        self._keys: dict[tuple[str, str | None], bytes] = {}
        self.destroyed: set[tuple[str, str]] = set()

    def _key(self, tenant_id: str, subject: str | None) -> bytes:
        if subject is not None and (tenant_id, subject) in self.destroyed:
            raise KeyDestroyedError(subject)
        return self._keys.setdefault((tenant_id, subject), AESGCM.generate_key(bit_length=256))

    def encrypt(self, tenant_id: str, plaintext: bytes, *, subject: str | None = None, aad: bytes = b"") -> bytes:
        nonce = os.urandom(12)
        return nonce + AESGCM(self._key(tenant_id, subject)).encrypt(nonce, plaintext, aad)

    def decrypt(self, tenant_id: str, blob: bytes, *, subject: str | None = None, aad: bytes = b"") -> bytes:
        return AESGCM(self._key(tenant_id, subject)).decrypt(blob[:12], blob[12:], aad)

    def destroy_subject(self, tenant_id: str, subject: str) -> None:
        self._keys.pop((tenant_id, subject), None)
        self.destroyed.add((tenant_id, subject))


@pytest.fixture(scope="session")
def korean() -> KoreanAnalyzer:
    k = KoreanAnalyzer()
    k.morphemes("준비")  # the first call pays Kiwi's warm-up
    return k


@pytest.fixture(scope="session")
def analyzer(korean: KoreanAnalyzer) -> Analyzer:
    return build_analyzer(korean)


@pytest.fixture(scope="session")
def db(tmp_path_factory: pytest.TempPathFactory) -> Database:
    database = Database(f"sqlite:///{tmp_path_factory.mktemp('privacy') / 'jaju.db'}")
    database.migrate()
    yield database
    database.dispose()


@pytest.fixture()
def keys() -> AesGcmKeys:
    return AesGcmKeys()


@pytest.fixture()
def hasher(tmp_path: Path) -> TenantHasher:
    return TenantHasher.load_or_create(tmp_path / "keys")


@pytest.fixture()
def service(analyzer: Analyzer, db: Database, keys: AesGcmKeys, hasher: TenantHasher) -> PrivacyService:
    return PrivacyService(analyzer, PseudonymVault(db, keys, hasher), hasher)
