"""Audit trail: durable, signed events per second with many awaiting callers (group commit), SQLite and PostgreSQL.

Run:  python benchmarks/audit_bench.py --events 20000 --runs 5 --concurrency 256,1024

Each caller loops `await audit.record(event)`, which returns only after the event's batch is committed
(SQLite synchronous=FULL: fsync per commit; PostgreSQL's default fsync) together with an Ed25519
checkpoint over the batch's last event; "+ witness" also appends and fsyncs that checkpoint to a file
witness. Reported: medians over --runs, with min..max, events per commit, and the signing cost per batch.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, func, select, text

from jaju.audit import AuditLog, Event
from jaju.audit.chain import Checkpoint
from jaju.audit.keys import DeploymentKey, verify_signature
from jaju.audit.verify import verify_store
from jaju.settings import AuditSettings
from jaju.store import Database
from jaju.store.tables import AuditCheckpoint

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
FIELDS = {"model": "qwen2.5-coder-0.5b-instruct", "weights_sha256": "1d96" * 16, "jurisdiction": "KR",
          "prompt_tokens": 41, "completion_tokens": 10, "latency_ms": 812.5,
          "input_hmac": "ab" * 32, "output_hmac": "cd" * 32}


def event(i: int) -> Event:
    return Event(action="chat.completions", tenant_id=f"ten_{i % 7}", key_id="key_1", status=200, fields=FIELDS)


async def durable_rate(log: AuditLog, n: int, concurrency: int) -> float:
    per = n // concurrency

    async def caller(c: int) -> None:
        for i in range(per):
            await log.record(event(c * per + i))

    start = time.perf_counter()
    await asyncio.gather(*(caller(c) for c in range(concurrency)))
    return per * concurrency / (time.perf_counter() - start)


def queued_rate(log: AuditLog, n: int) -> float:
    """The old path, as a peer in the same run: append without waiting, then flush."""
    start = time.perf_counter()
    for i in range(n):
        log.append(event(i))
    log.flush()
    return n / (time.perf_counter() - start)


def checkpoints(db: Database) -> int:
    with db.sessions() as s:
        return s.scalar(select(func.count()).select_from(AuditCheckpoint)) or 0


def measure(url: str, keys: Path, n: int, concurrency: int, runs: int, witness: Path | None) -> dict:
    db = Database(url)
    db.migrate()
    log = AuditLog(db, DeploymentKey.load_or_create(keys), AuditSettings(witness_path=witness), b"k" * 32)
    log.start()
    asyncio.run(durable_rate(log, 200, 8))  # warm the pool and the writer
    rates, sizes, queued = [], [], []
    for _ in range(runs):
        before_cp, before_ev = checkpoints(db), log.appended
        rates.append(asyncio.run(durable_rate(log, n, concurrency)))
        sizes.append((log.appended - before_ev) / max(1, checkpoints(db) - before_cp))
        queued.append(queued_rate(log, n))
    log.close()
    start = time.perf_counter()
    report = verify_store(db, [log.key.public])
    verify_rate = report.events / (time.perf_counter() - start)
    assert report.ok, report.problem
    db.dispose()
    return {"rates": rates, "batch": statistics.median(sizes), "verify": verify_rate,
            "queued": statistics.median(queued)}


def signing_cost(keys: Path, n: int = 5000) -> tuple[float, float]:
    """Microseconds to sign one checkpoint and to verify one (the writer verifies another process's head)."""
    key = DeploymentKey.load_or_create(keys)
    msg = Checkpoint(123456, "ab" * 32, "2026-12-02T01:00:00.000000+00:00", key.key_id, b"").message()
    start = time.perf_counter()
    for _ in range(n):
        sig = key.sign(msg)
    sign_us = (time.perf_counter() - start) / n * 1e6
    start = time.perf_counter()
    for _ in range(n):
        verify_signature(key.public, sig, msg)
    return sign_us, (time.perf_counter() - start) / n * 1e6


def line(name: str, conc: int, r: dict) -> str:
    med = statistics.median(r["rates"])
    return (f"{name:<24} c={conc:<5} {med:>8,.0f} durable events/s (min {min(r['rates']):,.0f}, "
            f"max {max(r['rates']):,.0f}), {r['batch']:.0f} events/commit; peers in the same run: queued append "
            f"{r['queued']:,.0f}/s, verify {r['verify']:,.0f} events/s")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=20000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--concurrency", default="256,1024")
    ap.add_argument("--no-postgres", action="store_true")
    args = ap.parse_args()
    levels = [int(c) for c in args.concurrency.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        sign_us, verify_us = signing_cost(tmp / "keys")
        print(f"Ed25519 per batch: sign {sign_us:.1f} us, verify {verify_us:.1f} us")
        for conc in levels:
            for witness in (None, tmp / f"witness-{conc}.jsonl"):
                name = "SQLite" + (" + witness" if witness else "")
                r = measure(f"sqlite:///{tmp / f'audit-{conc}-{bool(witness)}.db'}", tmp / "keys", args.events,
                            conc, args.runs, witness)
                print(line(name, conc, r), flush=True)
        if args.no_postgres:
            return
        admin = create_engine(PG, isolation_level="AUTOCOMMIT")
        for conc in levels:
            for witness in (None, tmp / f"pg-witness-{conc}.jsonl"):
                name = f"jaju_bench_{secrets.token_hex(4)}"
                with admin.connect() as c:
                    c.execute(text(f'CREATE DATABASE "{name}"'))
                try:
                    r = measure(PG.rsplit("/", 1)[0] + "/" + name, tmp / "keys", args.events, conc, args.runs, witness)
                    print(line("PostgreSQL" + (" + witness" if witness else ""), conc, r), flush=True)
                finally:
                    with admin.connect() as c:
                        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
