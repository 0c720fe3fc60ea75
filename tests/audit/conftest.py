"""An audit log on a fresh store (SQLite and the real PostgreSQL), with its writer thread running."""

from __future__ import annotations

from pathlib import Path

import pytest

from jaju.audit import AuditLog, Event
from jaju.audit.keys import DeploymentKey
from jaju.settings import AuditSettings
from jaju.store import Database


@pytest.fixture
def db(database_url: str):
    database = Database(database_url)
    database.migrate()
    yield database
    database.dispose()


@pytest.fixture
def key(tmp_path: Path) -> DeploymentKey:
    return DeploymentKey.load_or_create(tmp_path / "keys")


@pytest.fixture
def audit(db: Database, key: DeploymentKey):
    log = AuditLog(db, key, AuditSettings(), b"s" * 32)
    log.start()
    yield log
    log.close()


def chat_event(audit: AuditLog, i: int, tenant: str = "ten_a") -> Event:
    """What a chat completion records: HMACs of the Korean prompt, never the text."""
    return Event(action="chat.completions", tenant_id=tenant, key_id="key_1", status=200,
                 fields={"model": "qwen", "prompt_tokens": i, "input_hmac": audit.hmac(tenant, f"질문 {i}: 서울의 날씨는?")})
