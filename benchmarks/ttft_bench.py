"""Time to first token: `jaju serve` against llama.cpp's `llama-server`, paired request by request.

    python benchmarks/ttft_bench.py --pairs 15 [--threads 2]

Same GGUF, threads and Korean prompt as engine_bench.py; each pair sends one streamed request to each
side (`max_tokens` 2, greedy, no prompt reuse: llama-server is asked `"cache_prompt": false`, jaju's
`[engine] prompt_cache` is off by default) and takes the time to the first chunk with content. Three
uncounted pairs warm both sides (and both of jaju's API workers) first. Prints the medians, the
spread, and the median of the paired differences, which cancels most of a shared machine's drift.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.engine_bench import MODEL, PROMPT, start_jaju_serve, start_llama_server  # noqa: E402

from jaju.engine.catalog import QWEN, assemble  # noqa: E402


def first_content_ms(base: str, key: str | None, extra: dict) -> float:
    body = {"model": MODEL, "messages": [{"role": "user", "content": PROMPT}], "max_tokens": 2,
            "temperature": 0, "stream": True, **extra}
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    start = time.perf_counter()
    with httpx.stream("POST", base + "/v1/chat/completions", json=body, timeout=600, headers=headers) as r:
        r.raise_for_status()
        for line in r.iter_lines():
            if line.startswith("data: {"):
                chunk = json.loads(line[6:])
                if chunk.get("choices") and chunk["choices"][0].get("delta", {}).get("content"):
                    return (time.perf_counter() - start) * 1000
    raise RuntimeError(f"{base} streamed no content")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", type=int, default=15)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    gguf = assemble(QWEN, Path.home() / ".cache" / "jaju-test")
    with open("/proc/loadavg") as f:
        print(f"load average before: {f.read().split()[:3]}")
    with tempfile.TemporaryDirectory() as tmp:
        server, server_base = start_llama_server(gguf, args.threads, Path(tmp) / "llama-server.log")
        serve, base, key = start_jaju_serve(Path(tmp), gguf, args.threads, False)
        jaju = lambda: first_content_ms(base, key, {})  # noqa: E731
        peer = lambda: first_content_ms(server_base, None, {"cache_prompt": False})  # noqa: E731
        try:
            for _ in range(3):
                jaju(), peer()
            pairs = [(jaju(), peer()) for _ in range(args.pairs)]
        finally:
            for p in (serve, server):
                p.terminate()
                p.wait(timeout=30)
    for name, values in (("jaju serve", [a for a, _ in pairs]), ("llama-server", [b for _, b in pairs])):
        print(f"{name:>12}: TTFT median {statistics.median(values):.1f} ms (min {min(values):.1f}, "
              f"max {max(values):.1f})")
    print(f"paired difference (jaju - llama-server): median {statistics.median(a - b for a, b in pairs):+.1f} ms "
          f"over {len(pairs)} pairs")
    with open("/proc/loadavg") as f:
        print(f"load average after: {f.read().split()[:3]}")


if __name__ == "__main__":
    main()
