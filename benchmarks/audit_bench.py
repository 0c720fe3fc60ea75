"""Audit trail: durable append rate (group commit) and verification rate, SQLite and PostgreSQL.

Run:  python benchmarks/audit_bench.py --events 20000
SQLite runs with synchronous=FULL (fsync per commit) and PostgreSQL with its default fsync, so every
counted event is on disk when its batch commits.
"""

from __future__ import annotations

import argparse
import secrets
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, text

from jaju.audit import AuditLog, Event
from jaju.audit.keys import DeploymentKey
from jaju.audit.verify import verify_store
from jaju.settings import AuditSettings
from jaju.store import Database

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def run(url: str, n: int, keys: Path) -> tuple[float, float, float]:
    db = Database(url)
    db.migrate()
    log = AuditLog(db, DeploymentKey.load_or_create(keys), AuditSettings(), b"k" * 32)
    log.start()
    event_fields = {"model": "qwen2.5-coder-0.5b-instruct", "weights_sha256": "1d96" * 16, "jurisdiction": "KR",
                    "prompt_tokens": 41, "completion_tokens": 10, "latency_ms": 812.5,
                    "input_hmac": "ab" * 32, "output_hmac": "cd" * 32}
    start = time.perf_counter()
    for i in range(n):
        log.append(Event(action="chat.completions", tenant_id=f"ten_{i % 7}", key_id="key_1", status=200,
                         fields=event_fields))
    queued = time.perf_counter() - start
    log.flush()
    append_rate = n / (time.perf_counter() - start)
    log.close()
    start = time.perf_counter()
    report = verify_store(db, [log.key.public])
    verify_rate = report.events / (time.perf_counter() - start)
    assert report.ok, report.problem
    db.dispose()
    return append_rate, verify_rate, queued / n * 1e6


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=20000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        a, v, q = run(f"sqlite:///{tmp / 'audit.db'}", args.events, tmp / "keys")
        print(f"SQLite:     append {a:,.0f} durable events/s, verify {v:,.0f} events/s, "
              f"request-side cost {q:.1f} us/event")
        name = f"jaju_bench_{secrets.token_hex(4)}"
        admin = create_engine(PG, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            a, v, q = run(PG.rsplit("/", 1)[0] + "/" + name, args.events, tmp / "keys")
            print(f"PostgreSQL: append {a:,.0f} durable events/s, verify {v:,.0f} events/s, "
                  f"request-side cost {q:.1f} us/event")
        finally:
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
