"""The two store calls every request waits on, on SQLite: SQLAlchemy Core against SQLite's own driver.

    python benchmarks/store_paths_bench.py [--n 300] [--repeat 3] [--idle-ms 0,5]

1. The audit group commit of one event (what a lone client's request waits for): `ChainWriter` as it runs
   on SQLite (the driver's cursor) against the same writer on Core statements (`_CoreTransaction`, what
   PostgreSQL uses and what SQLite used before), each on its own fresh store.
2. The API-key lookup: `ApiKeyService.authenticate` (the driver's cursor) against the same compiled query
   through a Core connection plus the same checks.

The two sides alternate call by call in one process. `--idle-ms` sleeps before each call: on these VMs
code that runs after the CPU went idle costs two to three times what it costs back to back, and a request
from a lone client always arrives after idle time. Reported: medians of wall time per call, per repeat.
"""

from __future__ import annotations

import argparse
import contextlib
import hmac
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from jaju.audit import AuditLog, Event  # noqa: E402
from jaju.audit.commit import ChainTransaction, ChainWriter, _CoreTransaction  # noqa: E402
from jaju.audit.keys import DeploymentKey  # noqa: E402
from jaju.settings import AuditSettings  # noqa: E402
from jaju.store import Database  # noqa: E402
from jaju.tenancy.keys import _AUTH_QUERY, PREFIX, ApiKeyService, _hash  # noqa: E402
from jaju.tenancy.principal import Principal  # noqa: E402
from jaju.tenancy.tenants import TenantService  # noqa: E402

FIELDS = {"model": "qwen2.5-coder-0.5b-instruct", "weights_sha256": "1d96" * 16, "jurisdiction": "KR",
          "prompt_tokens": 41, "completion_tokens": 10, "latency_ms": 812.5, "input_hmac": "ab" * 32,
          "output_hmac": "cd" * 32, "request_id": "chatcmpl-0123456789abcdef"}


class CoreChainWriter(ChainWriter):
    """The same writer on Core statements, as SQLite ran it before (and PostgreSQL still does)."""

    @contextlib.contextmanager
    def transaction(self) -> Iterator[ChainTransaction]:
        with self.db.write_connection() as conn:
            yield _CoreTransaction(conn, False, self._lock_timeout_ms)


def event() -> Event:
    return Event(action="chat.completions", tenant_id="ten_0123456789ab", key_id="key_0123456789ab", status=200,
                 fields=FIELDS)


def core_authenticate(db: Database, token: str) -> Principal:
    """`ApiKeyService.authenticate` with the lookup on a Core connection (its checks, same query)."""
    key_id, _, secret = token[len(PREFIX):].partition(".")
    with db.engine.connect() as conn:
        k = conn.execute(_AUTH_QUERY, {"key_id": key_id}).first()
    if k is None or not hmac.compare_digest(k.secret_hash, _hash(secret)) or k.revoked_at is not None:
        raise ValueError("refused")
    return Principal(k.tenant_id, k.tenant_name, k.id, frozenset(k.scopes), k.tenant_jurisdiction)


def alternate(sides: dict[str, Callable[[], object]], n: int, idle: float) -> dict[str, float]:
    times: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(n):
        for name, call in sides.items():
            if idle:
                time.sleep(idle)
            start = time.perf_counter()
            call()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) * 1000 for name, t in times.items()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=300, help="calls per side per repeat")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--idle-ms", default="0,5", help="sleep before each call, comma-separated settings")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="jaju-store-paths-"))
    key = DeploymentKey.load_or_create(tmp / "keys")
    writers = {}
    for name, cls in (("driver", ChainWriter), ("core", CoreChainWriter)):
        db = Database(f"sqlite:///{tmp / f'audit-{name}.db'}")
        db.migrate()
        writers[name] = cls(db, key)
        writers[name].commit([event()])
    db = Database(f"sqlite:///{tmp / 'tenancy.db'}")
    db.migrate()
    audit = AuditLog(db, key, AuditSettings(), b"k" * 32)
    tenants = TenantService(db, audit, {"KR"})
    keys = ApiKeyService(db, audit, tenants)
    _, token = keys.create(tenants.create("서울시청", "KR").id)
    assert keys.authenticate(token) == core_authenticate(db, token)
    commit = {name: (lambda w=w: w.commit([event()])) for name, w in writers.items()}
    auth = {"driver": lambda: keys.authenticate(token), "core": lambda: core_authenticate(db, token)}
    for idle_ms in (float(x) for x in args.idle_ms.split(",")):
        for r in range(args.repeat):
            c = alternate(commit, args.n, idle_ms / 1000)
            a = alternate(auth, args.n, idle_ms / 1000)
            print(f"idle {idle_ms:g} ms, repeat {r + 1}: audit commit driver {c['driver']:.3f} ms / core "
                  f"{c['core']:.3f} ms; key lookup driver {a['driver'] * 1000:.0f} us / core {a['core'] * 1000:.0f} us",
                  flush=True)


if __name__ == "__main__":
    main()
