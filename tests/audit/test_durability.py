"""Nothing acknowledged that is not recorded: `await record()` returns only once the event is committed and signed."""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import threading
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from jaju.audit import AuditLog, Event
from jaju.audit.commit import APPEND_LOCK
from jaju.audit.errors import AuditTailUnsigned, AuditUnavailable
from jaju.audit.keys import DeploymentKey
from jaju.audit.verify import verify_store
from jaju.errors import Unavailable
from jaju.settings import AuditSettings
from jaju.store import Database
from jaju.store.tables import AuditCheckpoint, AuditEvent
from tests.audit.conftest import chat_event
from tests.audit.tamper import append_unsigned, rewrite_and_rehash

pytestmark = pytest.mark.anyio


def _fresh_view(db: Database, seq: int) -> tuple[str | None, int | None]:
    """The event's body and the newest checkpoint's seq, read over a brand-new connection."""
    eng = create_engine(db.url)
    try:
        with eng.connect() as c:
            body = c.execute(select(AuditEvent.body).where(AuditEvent.seq == seq)).scalar()
            signed = c.execute(select(AuditCheckpoint.seq).where(AuditCheckpoint.seq >= seq)
                               .order_by(AuditCheckpoint.seq).limit(1)).scalar()
    finally:
        eng.dispose()
    return body, signed


@contextlib.contextmanager
def holding_chain_lock(db: Database):
    """Another process's writer, holding the chain's write lock until the block ends."""
    eng = create_engine(db.url)
    with eng.connect() as c:
        if db.dialect == "sqlite":
            c.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            c.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": APPEND_LOCK})
        try:
            yield
        finally:
            c.rollback()
    eng.dispose()


async def test_record_returns_after_commit_and_signature(audit: AuditLog):
    seq = await audit.record(chat_event(audit, 1))
    body, signed = _fresh_view(audit.db, seq)
    assert body is not None and '"action":"chat.completions"' in body and "서울" not in body
    assert signed == seq  # the batch's own checkpoint covers it
    report = verify_store(audit.db, [audit.key.public])
    assert report.ok and report.last_seq == seq, report.problem


async def test_concurrent_callers_share_one_commit(audit: AuditLog):
    with holding_chain_lock(audit.db):
        # The writer takes the first event and waits for the lock; the rest queue up behind it.
        tasks = [asyncio.create_task(audit.record(chat_event(audit, i, f"ten_{i % 3}"))) for i in range(60)]
        await asyncio.sleep(0.2)
        assert not any(t.done() for t in tasks)  # nothing acknowledged while the store cannot commit
    seqs = await asyncio.gather(*tasks)
    assert sorted(seqs) == list(range(1, 61))
    with audit.db.sessions() as s:
        checkpoints = s.scalars(select(AuditCheckpoint.seq).order_by(AuditCheckpoint.seq)).all()
    assert len(checkpoints) <= 2 and checkpoints[-1] == 60  # one signed commit for the queued group
    assert verify_store(audit.db, [audit.key.public]).ok


async def test_store_that_cannot_take_events_gives_audit_unavailable(audit: AuditLog):
    await audit.record(chat_event(audit, 1))
    with audit.db.engine.begin() as c:
        c.execute(text("ALTER TABLE audit_events RENAME TO audit_events_gone"))
    with pytest.raises(AuditUnavailable) as err:
        await audit.record(chat_event(audit, 2))
    assert isinstance(err.value, Unavailable) and err.value.status == 503
    assert "audit store" in err.value.message and "서울" not in err.value.message
    with pytest.raises(AuditUnavailable):
        audit.append_now(chat_event(audit, 3))
    with audit.db.engine.begin() as c:
        c.execute(text("ALTER TABLE audit_events_gone RENAME TO audit_events"))
    seq = await audit.record(chat_event(audit, 4))  # the writer survived and carries on
    assert seq == 2 and verify_store(audit.db, [audit.key.public]).ok


async def test_a_store_that_does_not_answer_in_time_gives_audit_unavailable(db: Database, key):
    audit = AuditLog(db, key, AuditSettings(ack_timeout_seconds=0.3), b"s" * 32)
    audit.start()
    try:
        with holding_chain_lock(db):
            with pytest.raises(AuditUnavailable):  # the wait or the store's lock wait ends it, whichever first
                await audit.record(chat_event(audit, 1))
        audit.flush()  # once the lock is free the event may still land: recorded, never acknowledged
        assert verify_store(db, [key.public]).ok
    finally:
        audit.close()


async def test_broken_database_url_gives_audit_unavailable(tmp_path, key):
    (tmp_path / "not-a-db").write_bytes(b"\x00" * 4096)  # garbage where the SQLite file should be
    db = Database(f"sqlite:///{tmp_path / 'not-a-db'}")
    audit = AuditLog(db, key, AuditSettings(), b"s" * 32)
    audit.start()
    try:
        with pytest.raises(AuditUnavailable, match="cannot record"):
            await audit.record(Event(action="key.create", tenant_id="ten_a"))
        assert audit.failures == 1
    finally:
        audit.close()
        db.dispose()


async def test_writer_refuses_to_seal_a_rewritten_tail(audit: AuditLog):
    for i in range(3):
        await audit.record(chat_event(audit, i))
    audit.flush()
    rewrite_and_rehash(audit.db, 3, status=403)
    with pytest.raises(AuditTailUnsigned, match="rewritten"):
        await audit.record(chat_event(audit, 9))
    report = verify_store(audit.db, [audit.key.public])
    assert not report.ok and report.bad_seq == 3  # still caught: nothing signed the forgery


async def test_unsigned_tail_is_refused_until_the_operator_accepts_it(audit: AuditLog):
    await audit.record(chat_event(audit, 1))
    orphan = append_unsigned(audit.db)  # what an older jaju that crashed between checkpoints left
    with pytest.raises(AuditTailUnsigned):
        await audit.record(chat_event(audit, 2))
    with pytest.raises(AuditTailUnsigned, match="accept-unsigned-tail"):
        audit.checkpoint()
    accepted = await asyncio.to_thread(audit.checkpoint, accept_unsigned_tail=True)
    assert accepted == orphan + 1
    with audit.db.sessions() as s:
        body = s.scalar(select(AuditEvent.body).where(AuditEvent.seq == accepted))
    assert '"action":"audit.tail.accepted"' in body and f'"through_seq":{orphan}' in body
    assert await audit.record(chat_event(audit, 3)) == accepted + 1
    assert verify_store(audit.db, [audit.key.public]).ok


async def test_callers_on_several_threads_and_loops(audit: AuditLog):
    """Workers with their own event loops (as in a threaded server) each get their own answers."""
    results: list[list[int]] = []

    def worker(n: int) -> None:
        async def many() -> list[int]:
            return list(await asyncio.gather(*(audit.record(chat_event(audit, i)) for i in range(n))))

        results.append(asyncio.run(many()))

    threads = [threading.Thread(target=worker, args=(25,)) for _ in range(4)]
    for t in threads:
        t.start()
    mine = await asyncio.gather(*(audit.record(chat_event(audit, i)) for i in range(25)))
    for t in threads:
        t.join()
    everything = sorted([*mine, *(s for r in results for s in r)])
    assert everything == list(range(1, 126))
    assert verify_store(audit.db, [audit.key.public]).ok


def _replica(url: str, keys_dir: str, n: int) -> None:
    """Another jaju process on the same store, recording `n` events concurrently."""
    db = Database(url)
    log = AuditLog(db, DeploymentKey.load_or_create(Path(keys_dir)), AuditSettings(), b"s" * 32)
    log.start()

    async def go() -> None:
        await asyncio.gather(*(log.record(Event(action="chat.completions", tenant_id="ten_b", status=200))
                               for _ in range(n)))

    asyncio.run(go())
    log.close()
    db.dispose()


async def test_several_processes_extend_one_signed_chain(audit: AuditLog, tmp_path):
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_replica, args=(audit.db.url.render_as_string(hide_password=False),
                                                str(tmp_path / "keys"), 150)) for _ in range(2)]
    for p in procs:
        p.start()
    mine = await asyncio.gather(*(audit.record(chat_event(audit, i)) for i in range(150)))
    for p in procs:
        p.join(timeout=120)
        assert p.exitcode == 0
    assert len(set(mine)) == 150
    report = verify_store(audit.db, [audit.key.public])
    assert report.ok and report.last_seq == 450, report.problem  # one chain, signed to its end
    assert await audit.record(chat_event(audit, 999)) == 451  # and this writer accepts the others' head
