"""The shared queue on SQLite and on the real PostgreSQL: each line is claimed by one worker at a time,
a dead worker's line is taken over once its lease runs out, and a done line is never claimed again."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from jaju.batches.queue import LineQueue, request_counts
from jaju.batches.tables import Batch, BatchLine
from jaju.files.tables import StoredFile
from jaju.store import Database
from jaju.store.base import utcnow

LEASE = timedelta(seconds=60)


class Clock:
    def __init__(self):
        self.now = utcnow()

    def __call__(self):
        return self.now


@pytest.fixture
def db(database_url):
    d = Database(database_url)
    d.migrate()
    yield d
    d.dispose()


def _batch(db: Database, lines: int, batch_id: str = "batch_q") -> str:
    now = utcnow()
    with db.session() as s:
        s.add(Batch(id=batch_id, tenant_id="ten_q", key_id="key_q", endpoint="/v1/chat/completions",
                    completion_window="24h", input_file_id="file-q", status="in_progress", created_at=now,
                    in_progress_at=now, expires_at=now + timedelta(hours=24)))
        s.flush()
        s.add_all(BatchLine(batch_id=batch_id, tenant_id="ten_q", line_no=i, status="pending", attempts=0,
                            body=f"요청 {i}".encode(), is_error=False) for i in range(1, lines + 1))
    return batch_id


def test_racing_workers_each_line_claimed_once(db):
    _batch(db, 30)
    taken: dict[str, list[int]] = {"a": [], "b": [], "c": []}

    def work(owner: str) -> None:
        q = LineQueue(db, owner, LEASE)
        while (claim := q.claim()) is not None:
            taken[owner].append(claim.line_no)
            assert q.complete(claim.line_id, f"답 {claim.line_no}".encode(), False)

    threads = [threading.Thread(target=work, args=(o,)) for o in taken]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    every = sorted(n for ns in taken.values() for n in ns)
    assert every == list(range(1, 31))  # no line twice, none left out
    assert request_counts(db, ["batch_q"])["batch_q"] == {"total": 30, "completed": 30, "failed": 0}


def test_a_dead_workers_line_is_taken_over_once_and_never_again(db):
    _batch(db, 1)
    clock = Clock()
    dead, alive = LineQueue(db, "dead", LEASE, clock), LineQueue(db, "alive", LEASE, clock)
    first = dead.claim()
    assert first is not None and first.attempts == 1
    assert alive.claim() is None  # leased: nobody else may run it

    clock.now += LEASE + timedelta(seconds=1)  # the dead worker never renewed
    again = alive.claim()
    assert again is not None and again.line_id == first.line_id and again.attempts == 2
    assert dead.complete(first.line_id, b"late", False) is False  # it lost the line: its result is dropped
    assert alive.complete(again.line_id, b"ok", False) is True

    clock.now += timedelta(days=2)
    assert dead.claim() is None and alive.claim() is None  # done is done
    with db.sessions() as s:
        line = s.get(BatchLine, first.line_id)
    assert (line.status, line.result, line.attempts, line.body) == ("done", b"ok", 2, None)


def test_renewing_keeps_the_line(db):
    _batch(db, 1)
    clock = Clock()
    a, b = LineQueue(db, "a", LEASE, clock), LineQueue(db, "b", LEASE, clock)
    claim = a.claim()
    clock.now += LEASE * 0.9
    assert a.renew(claim.line_id)
    clock.now += LEASE * 0.9  # past the first lease, inside the renewed one
    assert b.claim() is None
    assert b.renew(claim.line_id) is False  # only the owner renews


def test_finalising_is_leased_and_taken_over(db):
    _batch(db, 1)
    clock = Clock()
    a, b = LineQueue(db, "a", LEASE, clock), LineQueue(db, "b", LEASE, clock)
    assert a.ready() == []  # a line is pending
    claim = a.claim()
    a.complete(claim.line_id, b"{}", False)
    assert a.ready() == ["batch_q"]
    assert a.claim_finalize("batch_q") == "finalizing"
    assert b.claim_finalize("batch_q") is None and b.ready() == []

    clock.now += LEASE + timedelta(seconds=1)  # a died while writing the files
    assert b.ready() == ["batch_q"] and b.claim_finalize("batch_q") == "finalizing"
    late = StoredFile(id="file-late", tenant_id="ten_q", purpose="batch_output", bytes=1, status="processed",
                      created_at=clock.now, filename=b"n", content=b"x")
    assert a.finish("batch_q", "completed", [late], "file-late", None) is False
    out = StoredFile(id="file-out", tenant_id="ten_q", purpose="batch_output", bytes=1, status="processed",
                     created_at=clock.now, filename=b"n", content=b"x")
    assert b.finish("batch_q", "completed", [out], "file-out", None) is True
    with db.sessions() as s:
        batch = s.get(Batch, "batch_q")
        assert s.get(StoredFile, "file-late") is None and s.get(StoredFile, "file-out") is not None
    assert (batch.status, batch.output_file_id, batch.owner) == ("completed", "file-out", None)
    assert batch.completed_at is not None and batch.finalizing_at is not None


def test_lines_of_an_expired_batch_expire(db):
    _batch(db, 2)
    clock = Clock()
    q = LineQueue(db, "a", LEASE, clock)
    clock.now += timedelta(hours=24, seconds=-10)
    assert q.claim() is not None  # one line starts just inside the window
    clock.now += timedelta(seconds=20)
    assert q.claim() is None  # the other may not start any more
    assert q.ready() == []  # the running line is still leased
    clock.now += LEASE * 2
    assert q.ready() == ["batch_q"]
    assert request_counts(db, ["batch_q"])["batch_q"] == {"total": 2, "completed": 0, "failed": 2}
