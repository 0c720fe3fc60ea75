"""WriterLock: writers from several processes queue in the kernel rather than in SQLite's busy handler."""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time

from jaju.store import Database
from jaju.store.writer_lock import WriterLock


def _take(path: str, ready, marker: str) -> None:
    """A second process: say it is about to ask, then write `marker` once it holds the lock."""
    lock = WriterLock(path)
    ready.set()
    with lock.held():
        with open(marker, "w", encoding="utf-8") as f:
            f.write(str(os.getpid()))


def test_a_second_process_waits_until_the_holder_lets_go(tmp_path):
    path, marker = str(tmp_path / "jaju.db-writer-lock"), str(tmp_path / "taken")
    ctx = multiprocessing.get_context("spawn")
    ready = ctx.Event()
    lock = WriterLock(path)
    with lock.held():
        child = ctx.Process(target=_take, args=(path, ready, marker))
        child.start()
        assert ready.wait(60)
        time.sleep(0.3)  # ample for the child to take a lock nobody held
        assert not os.path.exists(marker), "the second process wrote while the first held the lock"
    child.join(60)
    assert child.exitcode == 0
    assert open(marker, encoding="utf-8").read() == str(child.pid)


def test_the_lock_can_be_taken_again_and_by_threads_in_turn(tmp_path):
    lock = WriterLock(tmp_path / "lock")
    inside, most = [0], [0]

    def work():
        for _ in range(200):
            with lock.held():
                inside[0] += 1
                most[0] = max(most[0], inside[0])
                inside[0] -= 1

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert most[0] == 1  # never two threads inside at once


def test_a_lock_file_that_cannot_be_made_leaves_sqlite_to_order_writers(tmp_path, caplog):
    lock = WriterLock(tmp_path / "missing-dir" / "lock")
    with caplog.at_level(logging.WARNING, logger="jaju.store"):
        with lock.held():
            pass
        with lock.held():
            pass
    assert caplog.text.count("cannot be opened") == 1  # said once, not per write


def test_an_sqlite_store_keeps_its_lock_beside_its_file_and_a_memory_one_has_none(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'jaju.db'}")
    db.migrate()
    with db.sqlite_immediate() as cur:
        cur.execute("SELECT 1")
    assert (tmp_path / "jaju.db-writer-lock").exists()
    db.dispose()
    memory = Database("sqlite:///:memory:")
    with memory.sqlite_immediate() as cur:
        assert cur.execute("SELECT 1").fetchone() == (1,)


def test_every_write_transaction_of_an_sqlite_store_queues_on_its_lock(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'jaju.db'}")
    db.migrate()
    other = WriterLock(tmp_path / "jaju.db-writer-lock")  # another open file: as another process holds it
    try:
        for begin in (db.immediate, db.write_connection, db.sqlite_immediate):
            entered = threading.Event()

            def write():
                with begin():
                    entered.set()

            with other.held():
                writer = threading.Thread(target=write)
                writer.start()
                assert not entered.wait(0.3), f"{begin.__name__} wrote while another writer held the lock"
            assert entered.wait(30), f"{begin.__name__} did not start once the lock was free"
            writer.join(30)
    finally:
        other.close()
        db.dispose()
