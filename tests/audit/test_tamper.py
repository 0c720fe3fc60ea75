"""A database writer who rewrites the trail is caught; one who also holds the key is caught by the witness."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from jaju.audit import AuditLog
from jaju.audit.errors import AuditUnavailable
from jaju.audit.keys import DeploymentKey
from jaju.audit.verify import verify_store
from jaju.audit.witness import FileWitness
from jaju.cli.main import cli
from jaju.errors import ConfigError
from jaju.settings import AuditSettings
from jaju.store import Database
from tests.audit.conftest import chat_event
from tests.audit.tamper import append_unsigned, delete_tail, resign_from, rewrite_and_rehash

N = 10


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def store_url(database_url: str, data_dir: Path, monkeypatch) -> str:
    """The store the CLI reads: the SQLite file inside the data directory, or the fresh PostgreSQL schema."""
    monkeypatch.delenv("JAJU_CONFIG", raising=False)
    if database_url.startswith("sqlite"):
        return f"sqlite:///{data_dir / 'jaju.db'}"
    monkeypatch.setenv("JAJU_DATABASE_URL", database_url)
    return database_url


@pytest.fixture
def trail(store_url: str, data_dir: Path):
    """N chat events, each in its own signed commit, copied to a witness file on another path."""
    db = Database(store_url)
    db.migrate()
    key = DeploymentKey.load_or_create(data_dir / "keys")
    witness = data_dir.parent / "witness-volume" / "audit-witness.jsonl"
    log = AuditLog(db, key, AuditSettings(witness_path=witness), b"s" * 32)
    log.start()
    for i in range(N):
        log.append_now(chat_event(log, i, "ten_a" if i % 2 else "ten_b"))
    log.close()
    yield db, key, witness
    db.dispose()


def verify(db: Database, key: DeploymentKey, witness: Path | None = None):
    return verify_store(db, [key.public], witness=list(FileWitness(witness).checkpoints()) if witness else None)


def cli_verify(data_dir: Path, *extra: str):
    return CliRunner().invoke(cli, ["--data-dir", str(data_dir), "audit", "verify", *extra], catch_exceptions=False)


def test_intact_trail_matches_its_witness(trail):
    db, key, witness = trail
    assert len(list(FileWitness(witness).checkpoints())) == N  # one fsynced line per group commit
    report = verify(db, key, witness)
    assert report.ok and report.witnessed == N and report.last_seq == N, report.problem


@pytest.mark.parametrize("seq", [N, 4], ids=["newest", "middle"])
def test_rewrite_and_rehash_is_detected(trail, seq):
    db, key, _ = trail
    rewrite_and_rehash(db, seq, status=403)
    report = verify(db, key)
    assert not report.ok and report.bad_seq == seq and "rewritten" in report.problem


def test_deleting_the_tail_is_detected(trail):
    db, key, _ = trail
    delete_tail(db, N - 1, with_checkpoints=False)
    report = verify(db, key)
    assert not report.ok and report.bad_seq == N - 1 and "truncated" in report.problem


def test_deleting_the_tail_with_its_checkpoints_is_caught_by_the_witness(trail):
    db, key, witness = trail
    delete_tail(db, N - 1, with_checkpoints=True)
    assert verify(db, key).ok  # a shorter chain, signed to its end: the store alone cannot tell
    report = verify(db, key, witness)
    assert not report.ok and report.bad_seq == N - 1 and "tail was deleted" in report.problem


def test_rewrite_resigned_with_the_real_key_is_caught_only_by_the_witness(trail):
    db, key, witness = trail
    rewrite_and_rehash(db, 6, status=403)
    resign_from(db, key, 6)
    assert verify(db, key).ok  # with the stolen key the store is consistent again
    report = verify(db, key, witness)
    assert not report.ok and report.bad_seq == 6 and "re-signed" in report.problem


def test_events_after_the_last_signature_fail(trail):
    db, key, _ = trail
    orphan = append_unsigned(db)
    report = verify(db, key)
    assert not report.ok and report.bad_seq == orphan
    assert f"events {orphan}..{orphan} follow the last signed checkpoint" in report.problem


def test_unwitnessed_events_fail_the_witness_check(trail, data_dir):
    db, key, witness = trail
    log = AuditLog(db, key, AuditSettings(), b"s" * 32)  # a process started without the witness
    log.append_now(chat_event(log, 99))
    report = verify(db, key, witness)
    assert not report.ok and report.bad_seq == N + 1 and "no witnessed checkpoint" in report.problem


def test_a_witness_path_that_cannot_be_used_stops_start_up(db, key, tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("파일", encoding="utf-8")
    with pytest.raises(ConfigError, match="witness_path"):
        AuditLog(db, key, AuditSettings(witness_path=blocker / "witness.jsonl"), b"s" * 32)


def test_a_witness_that_fails_to_write_fails_the_caller(db, key):
    log = AuditLog(db, key, AuditSettings(witness_path=Path("/dev/full")), b"s" * 32)  # every write: ENOSPC
    try:
        with pytest.raises(AuditUnavailable, match="witness"):
            log.append_now(chat_event(log, 1))
    finally:
        log.close()
    assert verify_store(db, [key.public]).last_seq == 1  # in the store and signed, but never acknowledged


def _store_state(url: str, data_dir: Path) -> object:
    if url.startswith("sqlite"):
        return {p.name: p.read_bytes() for p in sorted(data_dir.glob("jaju.db*"))}
    eng = create_engine(url)
    try:
        with eng.connect() as c:
            return {t: c.execute(text(f"SELECT * FROM {t} ORDER BY 1")).all()
                    for t in ("audit_events", "audit_checkpoints", "alembic_version")}
    finally:
        eng.dispose()


def test_cli_verify_is_read_only_and_names_the_events(trail, store_url, data_dir):
    db, key, witness = trail
    db.dispose()
    before = _store_state(store_url, data_dir)
    ok = cli_verify(data_dir, "--witness", str(witness))
    assert ok.exit_code == 0 and f"{N} matched the witness" in ok.output
    assert _store_state(store_url, data_dir) == before

    orphan = append_unsigned(db)
    db.dispose()
    before = _store_state(store_url, data_dir)
    for _ in range(2):  # a verifier that signed what it read would pass the second time
        bad = cli_verify(data_dir)
        assert bad.exit_code == 2 and f"events {orphan}..{orphan}" in bad.output
    assert _store_state(store_url, data_dir) == before

    rewrite_and_rehash(db, 3, status=403)
    resign_from(db, key, 3)
    db.dispose()
    before = _store_state(store_url, data_dir)
    bad = cli_verify(data_dir, "--witness", str(witness))
    assert bad.exit_code == 2 and "event 3" in bad.output and "re-signed" in bad.output
    assert _store_state(store_url, data_dir) == before


def test_cli_verify_of_a_missing_store_says_so(tmp_path, monkeypatch):
    monkeypatch.delenv("JAJU_DATABASE_URL", raising=False)
    monkeypatch.delenv("JAJU_CONFIG", raising=False)
    r = cli_verify(tmp_path / "empty")
    assert r.exit_code == 1 and "No database at" in r.output and "Traceback" not in r.output
    assert not (tmp_path / "empty" / "jaju.db").exists()  # verifying created nothing
