"""What the process split costs: the same engine in this process vs. in an engine process over ZeroMQ.

    python benchmarks/ipc_bench.py --threads 2 --tokens 128 --runs 5

Side "in-process" is `LlamaEngine` driven directly (what a single-process server did); side "via IPC"
is `EngineClient` talking to `jaju serve`'s engine process (`engine_main`, the real one) over its unix
socket. Same Korean prompt, greedy, `--tokens` tokens, 1 and 8 concurrent streams; the runs alternate
between the sides and the medians are reported, with the added TTFT and the added time per token.
Also the round trip of an empty call (`ping`). Only one side generates at a time; both hold the model.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # benchmarks are scripts; reuse the test helpers for the model file

from tests.support import link_models  # noqa: E402

from jaju.engine.base import ChatRequest, ModelInfo, SamplingParams  # noqa: E402
from jaju.engine.catalog import QWEN, assemble  # noqa: E402
from jaju.engine.ipc.client import EngineClient, EngineConnection  # noqa: E402
from jaju.engine.ipc.processes import engine_main  # noqa: E402
from jaju.engine.llama import LlamaEngine  # noqa: E402
from jaju.settings import EngineSettings  # noqa: E402

MODEL = QWEN.name
PROMPT = "대한민국의 역사와 문화, 그리고 주요 도시들에 대해 자세히 설명해 주세요."
PARALLEL = 8


class Side:
    """A backend driven from a private event loop thread, so the benchmark can call it synchronously."""

    def __init__(self, backend):
        self.backend = backend
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()

    async def _one(self, tokens: int) -> dict:
        req = ChatRequest(model=MODEL, messages=[{"role": "user", "content": PROMPT}],
                          sampling=SamplingParams(max_tokens=tokens, temperature=0, repetition_penalty=1.0))
        start = time.perf_counter()
        first, n = None, 0
        async for d in self.backend.chat(req):
            if first is None and d.text:
                first = time.perf_counter()
            if d.usage:
                n = d.usage.completion_tokens
        return {"n": n, "ttft": first - start, "total": time.perf_counter() - start}

    async def _many(self, tokens: int, streams: int) -> dict:
        start = time.perf_counter()
        results = await asyncio.gather(*[self._one(tokens) for _ in range(streams)])
        return {"n": sum(r["n"] for r in results), "ttft": statistics.median(r["ttft"] for r in results),
                "total": time.perf_counter() - start}

    def run(self, tokens: int, streams: int) -> dict:
        return asyncio.run_coroutine_threadsafe(self._many(tokens, streams), self.loop).result()

    def call(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--tokens", type=int, default=128)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    gguf = assemble(QWEN, Path.home() / ".cache" / "jaju-test")
    with open("/proc/loadavg") as f:
        print(f"load average before: {f.read().split()[:3]}, {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        link_models(data, gguf)
        os.environ.update({"JAJU_ENGINE__THREADS": str(args.threads), "JAJU_ENGINE__PARALLEL": str(PARALLEL),
                           "JAJU_ENGINE__KV_CACHE_TOKENS": str(PARALLEL * 1024), "JAJU_ENGINE__CONTEXT_SIZE": "1024"})
        endpoint = f"ipc://{data / 'engine.sock'}"
        spawn = multiprocessing.get_context("spawn")
        ready = spawn.Event()
        engine_proc = spawn.Process(target=engine_main, args=(None, str(data), endpoint, ready))
        engine_proc.start()
        if not ready.wait(600):
            raise SystemExit("the engine process did not start")
        info = ModelInfo(id=MODEL, backend="embedded", jurisdiction="KR", kind="chat", sha256=QWEN.sha256)
        local = LlamaEngine(info, gguf, EngineSettings(threads=args.threads, parallel=PARALLEL,
                                                       kv_cache_tokens=PARALLEL * 1024, context_size=1024))
        local.load()
        conn = EngineConnection(endpoint)
        sides = {"in-process": Side(local), "via IPC": Side(EngineClient(conn, info))}
        try:
            ipc = sides["via IPC"]
            pings = []
            for _ in range(200):
                t = time.perf_counter()
                ipc.call(conn.call("ping"))
                pings.append(time.perf_counter() - t)
            print(f"empty call round trip: median {statistics.median(pings) * 1e6:.0f} us")
            for side in sides.values():
                side.run(args.tokens, 1)  # warm-up
            for streams in (1, PARALLEL):
                rates: dict[str, list[float]] = {name: [] for name in sides}
                ttfts: dict[str, list[float]] = {name: [] for name in sides}
                for _ in range(args.runs):
                    for name, side in sides.items():  # alternate: a load change hits both sides
                        r = side.run(args.tokens, streams)
                        rates[name].append(r["n"] / r["total"])
                        ttfts[name].append(r["ttft"])
                med = {name: (statistics.median(rates[name]), statistics.median(ttfts[name])) for name in sides}
                for name, (rate, ttft) in med.items():
                    print(f"{streams} stream(s) {name:>10}: {rate:6.1f} tok/s, TTFT {ttft * 1000:6.1f} ms; "
                          f"runs {[round(x, 1) for x in rates[name]]}")
                (r0, t0), (r1, t1) = med["in-process"], med["via IPC"]
                per_token = (1 / r1 - 1 / r0) * 1e6 * streams
                print(f"{streams} stream(s) IPC: {r1 / r0:.3f}x throughput, TTFT {1000 * (t1 - t0):+.1f} ms, "
                      f"{per_token:+.0f} us per token per stream")
        finally:
            sides["via IPC"].call(conn.aclose())
            sides["in-process"].call(local.close())
            engine_proc.terminate()
            engine_proc.join(30)
    with open("/proc/loadavg") as f:
        print(f"load average after: {f.read().split()[:3]}")


if __name__ == "__main__":
    main()
