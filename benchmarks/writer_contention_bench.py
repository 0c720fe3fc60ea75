"""Two API workers' audit writers on one SQLite store: how long a request waits for its durable record.

    python benchmarks/writer_contention_bench.py [--procs 2] [--callers 8] [--seconds 4] [--rounds 3]
                                                 [--before-src /tmp/before]

Each of `--procs` processes runs jaju's own `AuditLog` (writer thread, group commit, signed checkpoints)
on one SQLite file, with `--callers` coroutines that each record an event, wait for it, and record the
next: the audit side of `jaju serve --workers 2` at concurrency 16, without the rest of the request.
Reported per side and round: durable events per second over all processes, and the wait of one
`record()` (mean, p50, p99, max). With `--before-src` the same processes also run from another checkout's src/
(`git worktree add /tmp/before <commit>`), alternating with this one in every round, on a fresh store each.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import asyncio, json, sys, time
from pathlib import Path
from jaju.audit import AuditLog, Event
from jaju.audit.keys import DeploymentKey
from jaju.settings import AuditSettings
from jaju.store import Database

url, keys, callers, start_at, seconds = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
db = Database(url)
log = AuditLog(db, DeploymentKey.load_or_create(keys), AuditSettings(), b"k" * 32)
log.start()
fields = {"model": "bench", "jurisdiction": "KR", "prompt_tokens": 412, "completion_tokens": 9, "input_hmac": "ab" * 32}
waits = []

async def caller():
    while time.time() < start_at + seconds:
        t = time.perf_counter()
        await log.record(Event(action="chat.completions", tenant_id="ten_bench", key_id="key_bench", status=200,
                               fields=fields))
        if time.time() >= start_at:
            waits.append(time.perf_counter() - t)

async def main():
    await asyncio.sleep(max(0.0, start_at - 1.0 - time.time()))  # warm-up second before the counted window
    await asyncio.gather(*(caller() for _ in range(callers)))

asyncio.run(main())
log.close()
print(json.dumps(waits))
"""


def side(src: Path, procs: int, callers: int, seconds: float) -> dict:
    with tempfile.TemporaryDirectory(prefix="jaju-contend-") as tmp:
        url = f"sqlite:///{tmp}/jaju.db"
        env = {**os.environ, "PYTHONPATH": str(src)}
        setup = ("import sys; from pathlib import Path; from jaju.store import Database; "
                 "from jaju.audit.keys import DeploymentKey; db = Database(sys.argv[1]); db.migrate(); "
                 "DeploymentKey.load_or_create(Path(sys.argv[2]))")
        subprocess.run([sys.executable, "-c", setup, url, f"{tmp}/keys"], env=env, check=True)
        start_at = time.time() + 3.0  # every process started and warmed before the window opens
        children = [subprocess.Popen([sys.executable, "-c", CHILD, url, f"{tmp}/keys", str(callers), str(start_at),
                                      str(seconds)], env=env, stdout=subprocess.PIPE, text=True) for _ in range(procs)]
        waits: list[float] = []
        for child in children:
            out, _ = child.communicate(timeout=seconds + 120)
            if child.returncode != 0:
                sys.exit(f"a writer process failed under {src}")
            waits += json.loads(out)
    waits.sort()
    return {"events_per_s": round(len(waits) / seconds), "mean_ms": round(statistics.fmean(waits) * 1000, 2),
            "p50_ms": round(statistics.median(waits) * 1000, 2),
            "p99_ms": round(waits[int(0.99 * (len(waits) - 1))] * 1000, 2), "max_ms": round(waits[-1] * 1000, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--procs", type=int, default=2)
    ap.add_argument("--callers", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--before-src", type=Path, help="another checkout of jaju (its src/ runs in the same rounds)")
    args = ap.parse_args()
    sides = {"this": ROOT / "src"}
    if args.before_src:
        sides["before"] = args.before_src / "src"
        if not (sides["before"] / "jaju").is_dir():
            sys.exit(f"{args.before_src} is not a checkout of jaju (no src/jaju)")
    rounds = []
    for r in range(args.rounds):
        order = list(sides.items()) if r % 2 == 0 else list(reversed(sides.items()))
        result = {name: side(src, args.procs, args.callers, args.seconds) for name, src in order}
        rounds.append(result)
        print(json.dumps({"round": r + 1, **result}), flush=True)
    medians = {name: {field: statistics.median(rd[name][field] for rd in rounds) for field in rounds[0][name]}
               for name in sides}
    print(json.dumps({"medians": medians, "procs": args.procs, "callers": args.callers, "seconds": args.seconds}))


if __name__ == "__main__":
    main()
