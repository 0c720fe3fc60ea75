"""Tenants, keys and usage on SQLite and on the real PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from jaju.audit import AuditLog
from jaju.audit.keys import DeploymentKey
from jaju.errors import ApiError
from jaju.settings import AuditSettings
from jaju.store import Database
from jaju.tenancy.keys import ApiKeyService
from jaju.tenancy.tenants import TenantError, TenantService
from jaju.tenancy.usage import UsageMeter


@pytest.fixture
def stack(database_url: str, tmp_path: Path):
    db = Database(database_url)
    db.migrate()
    db.migrate()  # idempotent: a second process starting later must not fail
    audit = AuditLog(db, DeploymentKey.load_or_create(tmp_path), AuditSettings(), b"k" * 32)
    tenants = TenantService(db, audit, {"KR", "EU", "SA"})
    yield tenants, ApiKeyService(db, audit, tenants), UsageMeter(db), db
    db.dispose()


def test_tenant_lifecycle_in_korean(stack):
    tenants, _, _, _ = stack
    t = tenants.create("행정안전부", "kr")
    assert t.jurisdiction == "KR" and t.id.startswith("ten_")
    assert tenants.get("행정안전부").id == t.id == tenants.get(t.id).id
    with pytest.raises(TenantError, match="already exists"):
        tenants.create("행정안전부", "KR")
    with pytest.raises(TenantError, match="not configured"):
        tenants.create("외교부", "XX")
    with pytest.raises(TenantError, match="not allowed"):
        tenants.create("bad name with spaces", "KR")
    assert [x.name for x in tenants.list()] == ["행정안전부"]


def test_key_secret_is_hashed_and_revocation_is_immediate(stack):
    tenants, keys, _, db = stack
    tenants.create("bank", "EU")
    view, secret = keys.create("bank", ["inference"])
    p = keys.authenticate(secret)
    assert p.tenant_name == "bank" and p.tenant_jurisdiction == "EU" and p.scopes == {"inference"}
    with db.engine.connect() as c:
        dump = " ".join(str(v) for row in c.exec_driver_sql("SELECT * FROM api_keys") for v in row)
    assert secret.split(".")[1] not in dump
    key_id, _, rest = secret.partition(".")
    for wrong in (f"{key_id}.{'x' * len(rest)}", f"jaju-key_000000000000.{rest}"):  # wrong secret, unknown key
        with pytest.raises(ApiError) as e:
            keys.authenticate(wrong)
        assert e.value.status == 401 and e.value.code == "invalid_api_key"
    keys.revoke(view.id)
    with pytest.raises(ApiError) as e:
        keys.authenticate(secret)
    assert e.value.status == 401 and e.value.code == "revoked_api_key"
    with pytest.raises(TenantError, match="Unknown scope"):
        keys.create("bank", ["root"])


def test_suspended_tenant_keys_stop_working(stack):
    tenants, keys, _, _ = stack
    tenants.create("hospital", "KR")
    _, secret = keys.create("hospital")
    tenants.set_status("hospital", "suspended")
    with pytest.raises(ApiError) as e:
        keys.authenticate(secret)
    assert e.value.status == 403


def test_usage_increments_atomically(stack):
    tenants, keys, usage, _ = stack
    t = tenants.create("partner", "KR")
    for _ in range(3):
        usage.record(t.id, "key_a", "qwen", 10, 5)
    usage.flush()
    usage.record(t.id, "key_a", "qwen", 1, 1)
    rows = usage.rows(t.id)
    assert rows[0]["requests"] == 4 and rows[0]["prompt_tokens"] == 31 and rows[0]["completion_tokens"] == 16
