"""Personal data at rest: planted identifiers never appear in any file of the data directory or in pg_dump.

Real parts: the sovereignty KeyService (envelope encryption, local KEKs), the privacy service (keyed
subject digest, recognizers), SQLite in WAL mode and PostgreSQL. Every file is read as bytes, the WAL and
shared-memory files included, before any checkpoint; a log file at DEBUG level is part of the directory.
"""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import select, text, update

from jaju.knowledge.service import KnowledgeService
from jaju.knowledge.tables import KnowledgeDocument
from jaju.privacy.factory import build_privacy_service
from jaju.sovereignty.kek import local_providers
from jaju.sovereignty.keys import KeyService, TenantJurisdictions
from jaju.store.db import MIGRATIONS, Database
from jaju.store.tables import Tenant

NAME, RRN, PHONE, SUBJECT = "박서연", "850315-1234567", "010-2345-6789", "환자-박서연-0315"
PLANTED = [NAME, RRN, RRN.replace("-", ""), PHONE, SUBJECT]
FILENAME = f"../../{NAME}_{RRN}.txt"
TEXT = (f"진료 기록\n환자 {NAME}({RRN})은 2026년 3월 2일 내원하였다. 연락처는 {PHONE}이다.\n"
        "진단: 급성 기관지염. 처방: 항생제 5일분.\n").encode()


def leaks(blob: bytes) -> list[str]:
    return [v for v in PLANTED if v.encode("utf-8") in blob]


def directory_leaks(root: Path) -> dict[str, list[str]]:
    """Planted values found in any file under root, read as raw bytes (no checkpoint first)."""
    found = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        hit = leaks(path.read_bytes())
        if hit:
            found[str(path.relative_to(root))] = hit
    return found


@pytest.fixture
def log_file(tmp_path):
    """Everything jaju logs during the test, into a file inside the data directory."""
    data = tmp_path / "data"
    data.mkdir()
    handler = logging.FileHandler(data / "jaju.log", encoding="utf-8")
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    old = root.level
    root.setLevel(logging.DEBUG)
    root.addHandler(handler)
    yield data
    root.removeHandler(handler)
    root.setLevel(old)
    handler.close()


def real_parts(db: Database, keys_dir: Path, analyzer):
    keyring = KeyService(db, TenantJurisdictions(db), local_providers(keys_dir, {"KR"}))
    privacy = build_privacy_service(db, analyzer, keys_dir, keyring)
    return keyring, privacy


def ingest(service: KnowledgeService) -> str:
    kb = service.create_kb("t_seoul", "진료 기록")
    [result] = service.add_documents("t_seoul", kb.id, [(FILENAME, TEXT)], subject=SUBJECT)
    assert result.ok, result.error
    doc = result.document
    assert doc["subject"] == SUBJECT and doc["filename"].endswith(".txt") and "/" not in doc["filename"]
    assert RRN not in doc["filename"]
    hits = service.search("t_seoul", [kb.id], "기관지염 처방")
    assert hits and RRN in hits[0].text  # the content is all there for the tenant, decrypted
    assert service.subject_documents("t_seoul", SUBJECT)[0]["id"] == doc["id"]
    return kb.id


def test_nothing_planted_reaches_the_sqlite_data_directory(log_file, analyzer, embedder, settings):
    data = log_file
    db = Database(f"sqlite:///{data / 'jaju.db'}")
    db.migrate()
    with db.session() as s:
        s.add(Tenant(id="t_seoul", name="서울시청", jurisdiction="KR", status="active", settings={}))
    keyring, privacy = real_parts(db, data / "keys", analyzer)
    service = KnowledgeService(db, analyzer, embedder, keyring, settings, privacy=privacy)
    kb_id = ingest(service)
    assert (data / "jaju.db-wal").exists()
    assert directory_leaks(data) == {}
    assert service.erase_subject("t_seoul", SUBJECT) == 1
    assert service.list_documents("t_seoul", kb_id) == []
    with db.engine.connect() as c:
        c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    assert directory_leaks(data) == {}
    db.dispose()


def pg_dump(db: Database) -> bytes:
    url = db.engine.url
    return subprocess.run(["pg_dump", "-h", url.host, "-p", str(url.port or 5432), "-U", url.username,
                           "-d", url.database], check=True, capture_output=True).stdout


@pytest.mark.postgres
def test_nothing_planted_reaches_pg_dump(pg_db, tmp_path, analyzer, embedder, settings):
    keyring, privacy = real_parts(pg_db, tmp_path / "keys", analyzer)
    service = KnowledgeService(pg_db, analyzer, embedder, keyring, settings, privacy=privacy)
    ingest(service)
    dump = pg_dump(pg_db)
    assert b"knowledge_documents" in dump and leaks(dump) == []


def test_rows_stored_in_clear_before_0008_are_sealed_on_start(log_file, analyzer, embedder, settings):
    data = log_file
    db = Database(f"sqlite:///{data / 'jaju.db'}")
    db.migrate()
    with db.session() as s:
        s.add(Tenant(id="t_seoul", name="서울시청", jurisdiction="KR", status="active", settings={}))
    keyring, privacy = real_parts(db, data / "keys", analyzer)
    kb_id = ingest(KnowledgeService(db, analyzer, embedder, keyring, settings, privacy=privacy))
    # Put the row back into its pre-0008 shape: name and subject in plain columns.
    with db.session() as s:
        s.execute(update(KnowledgeDocument).values(filename=FILENAME.rsplit("/", 1)[-1], subject=SUBJECT,
                                                   filename_enc=None, subject_enc=None, subject_digest=None))
    with db.engine.connect() as c:
        c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    assert set(directory_leaks(data)["jaju.db"]) >= {NAME, RRN, SUBJECT}  # the scan does see plaintext

    restarted = KnowledgeService(db, analyzer, embedder, keyring, settings, privacy=privacy)
    assert directory_leaks(data) == {}
    [doc] = restarted.list_documents("t_seoul", kb_id)
    assert doc["filename"] == f"{NAME}_{RRN}.txt" and doc["subject"] == SUBJECT  # nothing lost
    with db.session() as s:
        row = s.scalar(select(KnowledgeDocument))
        assert row.filename == "" and row.subject is None and row.filename_enc and row.subject_digest
    assert restarted.search("t_seoul", [kb_id], "처방")
    assert restarted.erase_subject("t_seoul", SUBJECT) == 1
    db.dispose()


def test_migration_0008_keeps_existing_rows(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'old.db'}")
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0005")
    with db.engine.begin() as c:
        c.execute(text("INSERT INTO tenants (id, name, jurisdiction, status, settings, created_at) "
                       "VALUES ('t1', '서울시청', 'KR', 'active', '{}', '2026-01-01 00:00:00')"))
        c.execute(text("INSERT INTO knowledge_bases (id, tenant_id, name, description, config, version, created_at) "
                       "VALUES ('kb1', 't1', '민원', '', '{}', 1, '2026-01-01 00:00:00')"))
        c.execute(text("INSERT INTO knowledge_documents (id, kb_id, tenant_id, filename, format, sha256, size, "
                       "chunks, characters, title_enc, subject, labels, created_at) VALUES ('d1', 'kb1', 't1', "
                       ":f, 'txt', 'x', 1, 0, 0, x'00', :s, '{}', '2026-01-01 00:00:00')"),
                  {"f": "민원_답변.txt", "s": SUBJECT})
    db.migrate()
    with db.session() as s:
        row = s.scalar(select(KnowledgeDocument))
        assert (row.id, row.filename, row.subject) == ("d1", "민원_답변.txt", SUBJECT)
        assert row.filename_enc is None and row.subject_digest is None
    db.dispose()
