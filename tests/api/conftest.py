"""A live `jaju serve` on a random port, and the app in-process, both on the real default model."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support import free_port, link_models

KEY_LINE = re.compile(r"OPENAI_API_KEY=(jaju-\S+)")


@dataclass
class Live:
    base_url: str
    admin_key: str
    data_dir: Path
    process: subprocess.Popen
    log: Path


def start_server(data_dir: Path, gguf: Path, env_extra: dict[str, str] | None = None,
                 wait_key: bool = True) -> Live:
    link_models(data_dir, gguf)
    port = free_port()
    env = {**os.environ, "JAJU_DATA_DIR": str(data_dir), "JAJU_ENGINE__THREADS": "2",
           "JAJU_ENGINE__PARALLEL": "4", "JAJU_ENGINE__KV_CACHE_TOKENS": "8192", "PYTHONUNBUFFERED": "1",
           **(env_extra or {})}
    log = data_dir / f"serve-{port}.log"
    # One API worker (plus the engine process): what these tests check does not need more processes.
    proc = subprocess.Popen([sys.executable, "-m", "jaju", "serve", "--port", str(port), "--workers", "1"],
                            stdout=open(log, "w"), stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"jaju serve exited early:\n{log.read_text()}")
        try:
            if httpx.get(base + "/readyz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    else:
        proc.kill()
        raise RuntimeError(f"jaju serve did not become ready:\n{log.read_text()}")
    match = KEY_LINE.search(log.read_text())
    if wait_key and not match:
        raise RuntimeError(f"no bootstrap key printed:\n{log.read_text()}")
    return Live(base, match.group(1) if match else "", data_dir, proc, log)


def stop_server(live: Live) -> None:
    live.process.terminate()
    try:
        live.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        live.process.kill()


@pytest.fixture(scope="session")
def live(tmp_path_factory, qwen_gguf) -> Iterator[Live]:
    server = start_server(tmp_path_factory.mktemp("live"), qwen_gguf)
    yield server
    stop_server(server)


