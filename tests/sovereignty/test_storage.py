"""At rest: stored Korean content is ciphertext in the SQLite file and in a pg_dump; erasure shreds it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from sqlalchemy import delete, text

from jaju.audit.keys import DeploymentKey
from jaju.audit.log import AuditLog
from jaju.privacy.hashing import TenantHasher
from jaju.privacy.tables import PseudonymEntry
from jaju.privacy.vault import PseudonymVault
from jaju.settings import AuditSettings
from jaju.sovereignty.erasure import erase_tenant
from jaju.sovereignty.kek import local_providers
from jaju.sovereignty.keys import KeyDestroyed, KeyService, TenantJurisdictions
from jaju.sovereignty.report import tenant_records
from jaju.store.tables import AuditCheckpoint, AuditEvent
from jaju.tenancy.tenants import TenantService

SECRETS = ["홍길동", "서울특별시 종로구 세종대로 209", "010-1234-5678", "국가안보 관련 민원 내용입니다"]


@pytest.fixture
def parts(db, keys_dir: Path):
    with db.session() as s:
        for table in (PseudonymEntry, AuditEvent, AuditCheckpoint):
            s.execute(delete(table))
    keyring = KeyService(db, TenantJurisdictions(db), local_providers(keys_dir, {"KR", "EU"}))
    vault = PseudonymVault(db, keyring, TenantHasher.load_or_create(keys_dir))
    audit = AuditLog(db, DeploymentKey.load_or_create(keys_dir), AuditSettings(), b"k" * 32)
    return keyring, vault, audit


def store_secrets(vault: PseudonymVault, tenant: str) -> None:
    session = vault.open(tenant, "민원-2026-001")
    for i, value in enumerate(SECRETS):
        session.placeholder_for("PERSON" if i == 0 else "OTHER", value, f"digest-{i}")
    vault.save(session)


def dump(db) -> bytes:
    """Every byte the store holds: the SQLite file with its WAL, or pg_dump of the schema."""
    if db.dialect == "sqlite":
        path = Path(db.url.database)
        with db.engine.connect() as c:
            c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        return b"".join(p.read_bytes() for p in (path, path.with_name(path.name + "-wal")) if p.exists())
    with db.engine.connect() as c:
        schema = c.execute(text("SELECT current_schema()")).scalar()
    url = db.url
    return subprocess.run(["pg_dump", "-h", url.host, "-p", str(url.port or 5432), "-U", url.username,
                           "-d", url.database, "-n", schema], check=True, capture_output=True).stdout


def test_no_plaintext_in_the_store(db, parts):
    _, vault, _ = parts
    store_secrets(vault, "ten_kr")
    assert sorted(vault.open("ten_kr", "민원-2026-001").values.values()) == sorted(SECRETS)
    raw = dump(db)
    assert b"ten_kr" in raw  # the dump is real and holds the rows
    for secret in SECRETS:
        utf8 = secret.encode()
        assert utf8 not in raw and utf8.hex().encode() not in raw, secret


def test_erase_tenant_shreds_and_is_audited(db, parts, keys_dir: Path):
    keyring, vault, audit = parts
    tenants = TenantService(db, audit, {"KR", "EU"})
    store_secrets(vault, "ten_kr")
    store_secrets(vault, "ten_kr2")
    erase_tenant(tenants, keyring, audit, "행정안전부", actor="cli")
    with pytest.raises(KeyDestroyed):
        vault.open("ten_kr", "민원-2026-001")
    assert sorted(vault.open("ten_kr2", "민원-2026-001").values.values()) == sorted(SECRETS)
    assert tenants.get("ten_kr").status == "erased"
    actions = [r["action"] for r in tenant_records(db, "ten_kr")]
    assert actions == ["tenant.erase", "tenant.erased"]
    # A new process with the same key files cannot read it either: the wrapped keys are gone.
    fresh = KeyService(db, TenantJurisdictions(db), local_providers(keys_dir, {"KR"}))
    with pytest.raises(KeyDestroyed):
        PseudonymVault(db, fresh, TenantHasher.load_or_create(keys_dir)).open("ten_kr", "민원-2026-001")
