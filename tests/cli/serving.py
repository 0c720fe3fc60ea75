"""A real `jaju serve --workers N` in a subprocess, on a temp data dir, for the live-server tests."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from tests.support import free_port, link_models

MODEL = "qwen2.5-coder-0.5b-instruct"
KEY_LINE = re.compile(r"OPENAI_API_KEY=(jaju-\S+)")
CHAT = {"model": MODEL, "max_tokens": 4, "temperature": 0,
        "messages": [{"role": "user", "content": "대한민국의 수도는 어디인가요?"}]}


class Server:
    """`jaju serve` in its own process group (so a test can SIGKILL all of it at once).

    `admin` is the bootstrap key printed on a data directory's first start; a restart on the same
    directory prints none, so pass the key a test kept.
    """

    def __init__(self, data_dir: Path, gguf: Path, *, workers: int = 2, per_minute: int = 600,
                 admin: str | None = None):
        link_models(data_dir, gguf)
        self.data_dir = data_dir
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "JAJU_DATA_DIR": str(data_dir), "JAJU_ENGINE__THREADS": "2",
                    "JAJU_ENGINE__PARALLEL": "4", "JAJU_ENGINE__KV_CACHE_TOKENS": "8192",
                    "JAJU_LIMITS__REQUESTS_PER_MINUTE": str(per_minute), "JAJU_SERVE_WORKER_HEADER": "1",
                    "PYTHONUNBUFFERED": "1"}
        self.log = data_dir / f"serve-{self.port}.log"
        with open(self.log, "w") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "jaju", "serve", "--port", str(self.port),
                                          "--workers", str(workers)], stdout=out, stderr=subprocess.STDOUT,
                                         env=self.env, start_new_session=True)
        self.wait(lambda: httpx.get(self.base + "/readyz", timeout=2).status_code == 200, 180, "ready")
        self.admin = admin or KEY_LINE.search(self.log.read_text()).group(1)

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
        """Which process is which, from the supervisor's run directory (in /tmp when data_dir is deep)."""
        pid = self.proc.pid
        run = self.data_dir / "run" / str(pid)
        if not run.exists():
            run = Path(tempfile.gettempdir()) / f"jaju-{os.getuid()}-{pid}"
        return json.loads((run / "pids.json").read_text())

    def chat(self, key: str, timeout: float = 120, body: dict | None = None) -> httpx.Response:
        return httpx.post(self.base + "/v1/chat/completions", headers={"Authorization": f"Bearer {key}"},
                          json=body or CHAT, timeout=timeout)

    def ready(self) -> httpx.Response:
        return httpx.get(self.base + "/readyz", timeout=10)

    def new_key(self) -> str:
        r = httpx.post(self.base + "/admin/keys", headers={"Authorization": f"Bearer {self.admin}"},
                       json={"tenant": "default", "scopes": ["inference"]}, timeout=30)
        assert r.status_code == 201, r.text
        return r.json()["secret"]

    def audit_verify(self) -> subprocess.CompletedProcess:
        """`jaju audit verify` on this server's data directory, as an operator runs it."""
        return subprocess.run([sys.executable, "-m", "jaju", "audit", "verify"], env=self.env,
                              capture_output=True, text=True, timeout=120)

    def kill_all(self) -> None:
        """SIGKILL the supervisor, the engine and every worker at once (a power cut, the OOM killer)."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
