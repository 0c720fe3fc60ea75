"""jaju's API vs raw llama.cpp on the same GGUF, threads and prompt; concurrency; peak memory.

Run on a quiet machine:  python benchmarks/engine_bench.py --threads 2 --tokens 96
Peers in the same run: llama-cpp-python's own `Llama` object (the same natively built llama.cpp,
no server in between) is the ceiling jaju is measured against.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # benchmarks are scripts; reuse the test helpers for the model file

from tests.support import free_port, link_models  # noqa: E402

from jaju.engine.catalog import QWEN, assemble  # noqa: E402

MODEL = QWEN.name
PROMPT = "대한민국의 역사와 문화, 그리고 주요 도시들에 대해 자세히 설명해 주세요."


def raw_llama(gguf: Path, threads: int, tokens: int, runs: int) -> dict:
    """The ceiling: llama.cpp through its Python binding, same chat template, greedy, no server."""
    from llama_cpp import Llama

    llm = Llama(model_path=str(gguf), n_ctx=4096, n_threads=threads, n_threads_batch=threads, verbose=False)
    rates, ttfts = [], []
    for _ in range(runs):
        llm.reset()  # no prefix reuse between runs: jaju does not cache prompts either
        start = time.perf_counter()
        first = None
        n = 0
        for chunk in llm.create_chat_completion(messages=[{"role": "user", "content": PROMPT}], max_tokens=tokens,
                                                temperature=0, stream=True):
            if chunk["choices"][0]["delta"].get("content"):
                n += 1
                if first is None:
                    first = time.perf_counter()
        end = time.perf_counter()
        ttfts.append(first - start)
        rates.append((n - 1) / (end - first))
    return {"tokens_per_s": statistics.median(rates), "ttft_s": statistics.median(ttfts)}


def start_jaju(data_dir: Path, gguf: Path, threads: int) -> tuple[subprocess.Popen, str, str]:
    link_models(data_dir, gguf)
    port = free_port()
    env = {**os.environ, "JAJU_DATA_DIR": str(data_dir), "JAJU_ENGINE__THREADS": str(threads),
           "JAJU_LIMITS__REQUESTS_PER_MINUTE": "0", "PYTHONUNBUFFERED": "1"}
    log = open(data_dir / "serve.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "jaju", "serve", "--port", str(port)], stdout=log,
                            stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(base + "/readyz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    key = next(line.split("=", 1)[1].strip() for line in (data_dir / "serve.log").read_text().splitlines()
               if "OPENAI_API_KEY=" in line)
    return proc, base, key


def stream_once(base: str, key: str, tokens: int) -> dict:
    body = {"model": MODEL, "messages": [{"role": "user", "content": PROMPT}], "max_tokens": tokens,
            "temperature": 0, "stream": True, "stream_options": {"include_usage": True}}
    start = time.perf_counter()
    first = None
    n = 0
    chunks = 0
    with httpx.stream("POST", base + "/v1/chat/completions", json=body, timeout=600,
                      headers={"Authorization": f"Bearer {key}"}) as r:
        for line in r.iter_lines():
            if not line.startswith("data: {"):
                continue
            chunk = json.loads(line[6:])
            if chunk.get("choices") and chunk["choices"][0]["delta"].get("content"):
                chunks += 1
                if first is None:
                    first = time.perf_counter()
            if chunk.get("usage"):
                n = chunk["usage"]["completion_tokens"]  # tokens, not chunks
    end = time.perf_counter()
    return {"n": n, "chunks": chunks, "ttft": first - start, "decode": end - first, "total": end - start}


def concurrent(base: str, key: str, tokens: int, streams: int) -> float:
    results: list[dict] = []
    lock = threading.Lock()

    def worker():
        r = stream_once(base, key, tokens)
        with lock:
            results.append(r)

    start = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(streams)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(r["n"] for r in results) / (time.perf_counter() - start)


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--tokens", type=int, default=96)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    gguf = assemble(QWEN, Path.home() / ".cache" / "jaju-test")

    raw = raw_llama(gguf, args.threads, args.tokens, args.runs)
    print(f"raw llama.cpp (llama-cpp-python Llama): {raw['tokens_per_s']:.1f} tok/s, TTFT {raw['ttft_s']*1000:.0f} ms")

    with tempfile.TemporaryDirectory() as tmp:
        proc, base, key = start_jaju(Path(tmp), gguf, args.threads)
        try:
            stream_once(base, key, 8)  # warm-up
            singles = [stream_once(base, key, args.tokens) for _ in range(args.runs)]
            rate = statistics.median((s["n"] - 1) / s["decode"] for s in singles)
            ttft = statistics.median(s["ttft"] for s in singles)
            print(f"jaju API, 1 stream: {rate:.1f} tok/s ({rate / raw['tokens_per_s']:.2f}x raw), "
                  f"TTFT {ttft*1000:.0f} ms (+{(ttft - raw['ttft_s'])*1000:.0f} ms vs raw), "
                  f"{statistics.median(s['chunks'] for s in singles):.0f} content chunks for "
                  f"{statistics.median(s['n'] for s in singles):.0f} tokens")
            agg = {n: concurrent(base, key, args.tokens, n) for n in (1, 4, 8)}
            for n, v in agg.items():
                print(f"jaju API, {n} concurrent streams: {v:.1f} tok/s aggregate ({v / agg[1]:.2f}x one stream)")
            print(f"jaju serve peak RSS: {peak_rss_mb(proc.pid):.0f} MB")
        finally:
            proc.terminate()
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
