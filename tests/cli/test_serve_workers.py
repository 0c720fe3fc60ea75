"""`jaju serve --workers 2`: two API workers and one engine process, on the real model and a temp data dir.

One server for the whole file (starting it loads the model): both workers answer, a worker killed with
SIGKILL is replaced while the other keeps serving, the engine killed with SIGKILL gives quick 503s and
comes back, /metrics adds up every worker, the rate limit holds across workers, and the audit trail
verifies afterwards.
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.support import free_port, link_models

pytestmark = [pytest.mark.engine]
MODEL = "qwen2.5-coder-0.5b-instruct"
KEY_LINE = re.compile(r"OPENAI_API_KEY=(jaju-\S+)")
PER_MINUTE = 40
CHAT = {"model": MODEL, "max_tokens": 4, "temperature": 0,
        "messages": [{"role": "user", "content": "대한민국의 수도는 어디인가요?"}]}


class Server:
    def __init__(self, data_dir: Path, gguf: Path):
        link_models(data_dir, gguf)
        self.data_dir = data_dir
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "JAJU_DATA_DIR": str(data_dir), "JAJU_ENGINE__THREADS": "2",
                    "JAJU_ENGINE__PARALLEL": "4", "JAJU_ENGINE__KV_CACHE_TOKENS": "8192",
                    "JAJU_LIMITS__REQUESTS_PER_MINUTE": str(PER_MINUTE), "JAJU_SERVE_WORKER_HEADER": "1",
                    "PYTHONUNBUFFERED": "1"}
        self.log = data_dir / "serve.log"
        self.proc = subprocess.Popen([sys.executable, "-m", "jaju", "serve", "--port", str(self.port),
                                      "--workers", "2"], stdout=open(self.log, "w"), stderr=subprocess.STDOUT,
                                     env=self.env)
        self.wait(lambda: httpx.get(self.base + "/readyz", timeout=2).status_code == 200, 180, "ready")
        self.admin = KEY_LINE.search(self.log.read_text()).group(1)

    def wait(self, check, seconds: float, what: str):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jaju serve exited:\n{self.log.read_text()}")
            try:
                result = check()
                if result:
                    return result
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"not {what} within {seconds} s:\n{self.log.read_text()}")

    def pids(self) -> dict:
        return json.loads(next((self.data_dir / "run").glob("*/pids.json")).read_text())

    def chat(self, key: str, timeout: float = 120) -> httpx.Response:
        return httpx.post(self.base + "/v1/chat/completions", headers={"Authorization": f"Bearer {key}"},
                          json=CHAT, timeout=timeout)

    def new_key(self) -> str:
        r = httpx.post(self.base + "/admin/keys", headers={"Authorization": f"Bearer {self.admin}"},
                       json={"tenant": "default", "scopes": ["inference"]}, timeout=30)
        assert r.status_code == 201, r.text
        return r.json()["secret"]

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture(scope="module")
def server(tmp_path_factory, qwen_gguf):
    s = Server(tmp_path_factory.mktemp("workers"), qwen_gguf)
    yield s
    s.stop()


def _workers_seen(server: Server, key: str, n: int) -> tuple[set[str], list[int]]:
    with cf.ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: server.chat(key), range(n)))
    return {r.headers["x-jaju-worker"] for r in answers}, [r.status_code for r in answers]


def test_both_workers_answer_and_metrics_add_up(server):
    key = server.new_key()
    pids = server.pids()
    seen, statuses = set(), []
    for _ in range(5):  # the kernel hands connections to whichever worker accepts first
        got, codes = _workers_seen(server, key, 4)
        seen |= got
        statuses += codes
        if len(seen) == 2:
            break
    assert set(statuses) == {200}
    assert seen == {str(p) for p in pids["workers"]}
    assert str(pids["engine"]) not in seen
    text = httpx.get(server.base + "/metrics", headers={"Authorization": f"Bearer {server.admin}"}).text
    counted = sum(float(m) for m in re.findall(
        r'jaju_requests_total\{route="/v1/chat/completions",status="200"\} (\S+)', text))
    assert counted >= len(statuses)  # one worker alone served fewer than that
    assert 'jaju_engine_active_sequences{model="%s"}' % MODEL in text  # written by the engine process


def test_a_killed_worker_is_replaced_and_the_other_keeps_serving(server):
    key = server.new_key()
    before = server.pids()
    victim = before["workers"][0]
    os.kill(victim, signal.SIGKILL)
    assert all(server.chat(key).status_code == 200 for _ in range(4))
    after = server.wait(lambda: (p := server.pids()) and victim not in p["workers"] and p, 60, "restarted")
    assert len(after["workers"]) == 2 and after["engine"] == before["engine"]
    new = next(p for p in after["workers"] if p not in before["workers"])
    server.wait(lambda: str(new) in _workers_seen(server, key, 4)[0], 120, "serving from the new worker")


def test_a_killed_engine_gives_quick_503s_then_serves_again(server):
    key = server.new_key()
    engine = server.pids()["engine"]
    os.kill(engine, signal.SIGKILL)
    r = server.chat(key, timeout=15)  # never a hang
    assert r.status_code == 503
    assert r.json()["error"]["type"] == "service_unavailable" and "engine" in r.json()["error"]["message"]
    server.wait(lambda: server.pids()["engine"] != engine, 30, "engine restarted")
    server.wait(lambda: server.chat(key).status_code == 200, 180, "serving again")


def test_the_rate_limit_holds_across_workers(server):
    key = server.new_key()
    url, body = server.base + "/v1/tokenize", {"model": MODEL, "text": "서울은 대한민국의 수도입니다."}
    with cf.ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: httpx.post(url, headers={"Authorization": f"Bearer {key}"}, json=body,
                                                     timeout=30), range(PER_MINUTE + 20)))
    ok = [r for r in answers if r.status_code == 200]
    assert len({r.headers["x-jaju-worker"] for r in answers}) == 2
    assert PER_MINUTE <= len(ok) <= PER_MINUTE + 3  # one bucket, not one per worker (that would pass 2x)
    assert {r.status_code for r in answers} == {200, 429}


def test_the_audit_trail_verifies_after_all_that(server):
    r = subprocess.run([sys.executable, "-m", "jaju", "audit", "verify"], env=server.env, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
