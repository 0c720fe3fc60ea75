"""Batch queue overhead: lines claimed and completed per second (no engine), SQLite vs PostgreSQL,
one worker vs four racing workers. Each run queues N lines and drains them; median of several runs.

    python benchmarks/batch_queue_bench.py --lines 400 --runs 3 \
        --pg postgresql+psycopg://postgres@127.0.0.1:5432/test

The PostgreSQL run uses a throwaway schema that is dropped afterwards.
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import create_engine, text

from jaju.batches.queue import LineQueue
from jaju.batches.tables import Batch, BatchLine
from jaju.store import Database
from jaju.store.base import utcnow

RESULT = b"x" * 600  # about one encrypted chat answer


def queue_lines(db: Database, n: int) -> None:
    now, batch_id = utcnow(), "batch_" + secrets.token_hex(8)
    with db.session() as s:
        s.add(Batch(id=batch_id, tenant_id="ten_b", key_id="key_b", endpoint="/v1/chat/completions",
                    completion_window="24h", input_file_id="file-b", status="in_progress", created_at=now,
                    in_progress_at=now, expires_at=now + timedelta(hours=24)))
        s.flush()
        s.add_all(BatchLine(batch_id=batch_id, tenant_id="ten_b", line_no=i, status="pending", attempts=0,
                            body=RESULT, is_error=False) for i in range(n))


def drain(db: Database, workers: int) -> tuple[float, int]:
    done = [0] * workers

    def work(i: int) -> None:
        q = LineQueue(db, f"w{i}", timedelta(minutes=5))
        while (c := q.claim()) is not None:
            if q.complete(c.line_id, RESULT, False):
                done[i] += 1

    threads = [threading.Thread(target=work, args=(i,)) for i in range(workers)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - start, sum(done)


def measure(db: Database, lines: int, runs: int, workers: int) -> float:
    rates = []
    for _ in range(runs):
        queue_lines(db, lines)
        seconds, n = drain(db, workers)
        assert n == lines, (n, lines)
        rates.append(n / seconds)
    return statistics.median(rates)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=400)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--pg", default=None, help="PostgreSQL admin URL (a throwaway schema is used)")
    args = ap.parse_args()
    stores: list[tuple[str, str]] = [("sqlite", f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}")]
    schema = None
    if args.pg:
        schema = "bench_" + secrets.token_hex(4)
        with create_engine(args.pg, isolation_level="AUTOCOMMIT").connect() as c:
            c.execute(text(f'CREATE SCHEMA "{schema}"'))
        stores.append(("postgresql", f"{args.pg}?options=-csearch_path%3D{schema}"))
    try:
        for name, url in stores:
            db = Database(url)
            db.migrate()
            for workers in (1, 4):
                rate = measure(db, args.lines, args.runs, workers)
                print(f"{name:10s} workers={workers}  {rate:8.0f} lines/s (median of {args.runs})")
            db.dispose()
    finally:
        if schema:
            with create_engine(args.pg, isolation_level="AUTOCOMMIT").connect() as c:
                c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


if __name__ == "__main__":
    main()
