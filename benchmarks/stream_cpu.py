"""CPU per streamed token in each thread of `jaju serve` (one API worker and the engine process).

    python benchmarks/stream_cpu.py --requests 6 --tokens 128
    python benchmarks/stream_cpu.py --idle 20          # what the server spends doing nothing

With two llama.cpp threads on two cores, every millisecond the API worker and the engine process's loop
spend per token is taken from the compute threads, so this is where `jaju serve` loses to `llama-server`
at one stream (engine_bench.py). Reads user and system CPU of every thread of the server's processes
from /proc before and after N streamed chat requests (128 tokens each, greedy, the engine_bench prompt)
and divides by `usage.completion_tokens`. /proc counts in clock ticks (10 ms): use enough tokens that a
tick is small against the total (6 x 128 tokens: one tick is 0.013 ms per token).

The server runs with JAJU_WORKERS=1 so that one worker carries every token. To compare with an older
commit, put its source first on the path: `PYTHONPATH=/path/to/old/src python benchmarks/stream_cpu.py`.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

import engine_bench as eb  # noqa: E402

from jaju.engine.catalog import QWEN, assemble  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def tree(pid: int) -> list[int]:
    out = [pid]
    for child in subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split():
        out += tree(int(child))
    return out


def role(pid: int, server: int) -> str:
    if pid == server:
        return "supervisor"
    maps = Path(f"/proc/{pid}/maps").read_text()
    if "libllama" in maps and "httptools" not in maps:
        return "engine"
    if "httptools" in maps:
        return "API worker"
    return "helper"  # multiprocessing's resource tracker


def threads(pids: list[int]) -> dict[tuple[int, int], tuple[int, int]]:
    """(pid, tid) -> (user, system) ticks."""
    out = {}
    for pid in pids:
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                stat = Path(f"/proc/{pid}/task/{tid}/stat").read_text()
            except FileNotFoundError:
                continue
            fields = stat[stat.rindex(")") + 2:].split()
            out[(pid, int(tid))] = (int(fields[11]), int(fields[12]))
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--requests", type=int, default=6)
    p.add_argument("--tokens", type=int, default=128)
    p.add_argument("--threads", type=int, default=2, help="llama.cpp threads in the engine process")
    p.add_argument("--idle", type=float, default=0, help="measure this many idle seconds instead")
    a = p.parse_args()
    os.environ["JAJU_WORKERS"] = "1"
    gguf = assemble(QWEN, Path.home() / ".cache" / "jaju-test")
    proc, base, key = eb.start_jaju_serve(Path(tempfile.mkdtemp()), gguf, a.threads, False)
    try:
        eb.http_stream(base, key, 16)  # warm: the first request builds per-process caches
        time.sleep(2)
        pids = tree(proc.pid)
        roles = {pid: role(pid, proc.pid) for pid in pids}
        before, start = threads(pids), time.perf_counter()
        if a.idle:
            time.sleep(a.idle)
            per, unit = a.idle, "ms per second"
        else:
            per = sum(eb.http_stream(base, key, a.tokens)["n"] for _ in range(a.requests))
            unit = "ms per token"
        wall = time.perf_counter() - start
        after = threads(pids)
        print(f"{'idle' if a.idle else f'{per} tokens'} over {wall:.1f} s; load average {os.getloadavg()[0]:.2f}")
        total = compute = 0.0
        for (pid, tid), (user, system) in sorted(after.items()):
            u0, s0 = before.get((pid, tid), (0, 0))
            du, ds = (user - u0) * 1000 / TICK / per, (system - s0) * 1000 / TICK / per
            if du + ds == 0:
                continue
            comm = Path(f"/proc/{pid}/task/{tid}/comm")
            name = comm.read_text().strip() if comm.exists() else "?"
            main_thread = " (main)" if pid == tid else ""
            print(f"  {roles[pid]:>10} {name:>12}{main_thread:7} user {du:7.3f}  system {ds:7.3f}  {unit}")
            total += du + ds
            if not a.idle and du + ds > 5:  # llama.cpp's compute threads (tens of ms per token)
                compute += du + ds
        print(f"  all threads: {total:.3f} {unit}")
        if not a.idle:
            print(f"  outside the llama.cpp compute threads: {total - compute:.3f} {unit}")
    finally:
        proc.terminate()
        proc.wait()


if __name__ == "__main__":
    main()
