"""An API worker of `jaju serve --workers N`: what it shares with the other workers, and its engine process.

`worker_main` builds a `WorkerRole` and hands it to `build_services`, which constructs everything a
worker needs differently from a single-process server: the models are `EngineClient`s of the engine
process, the rate limit's buckets live in one file every worker of the run opens, and the metrics are
served for all workers by the supervisor (so a worker serves none on a port of its own).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from jaju.api.ratelimit import SharedRateLimiter
from jaju.engine.base import Backend
from jaju.engine.ipc.client import EngineClient, EngineConnection, RemoteE5Backend

ENGINE_START_SECONDS = 600.0  # the engine process verifies and loads its models before it answers


@dataclass(frozen=True)
class WorkerRole:
    """This process is one API worker: the engine runs in another process, per-run state is in `run_dir`."""

    engine_endpoint: str
    run_dir: Path
    engine_start_seconds: float = ENGINE_START_SECONDS

    def rate_limiter(self, per_minute: int) -> SharedRateLimiter:
        """One token bucket per key for every worker of this run."""
        return SharedRateLimiter(self.run_dir / "ratelimit.db", per_minute)

    def engine(self) -> EngineProcess:
        return EngineProcess(self.engine_endpoint)


class EngineProcess:
    """The engine process as one worker sees it: a connection, and a `Backend` per model it serves."""

    def __init__(self, endpoint: str):
        self.conn = EngineConnection(endpoint)

    def backends(self, timeout: float) -> list[Backend]:
        """Wait until the engine answers (it may still be loading), then one backend per loaded model."""
        hello = self.conn.wait_ready(timeout)
        return [self._backend(info) for info in hello["models"]]

    def load(self, name: str) -> Backend:
        """Load `name` in the engine process (a model a client asked for that is not loaded yet)."""
        return self._backend(self.conn.call_sync("load", name)[0])

    def _backend(self, info) -> Backend:
        return RemoteE5Backend(self.conn, info) if info.kind == "embedding" else EngineClient(self.conn, info)

    async def reachable(self) -> bool:
        """Whether the engine process answers now (readiness; its restart takes a model load)."""
        return await self.conn.ping()

    async def aclose(self) -> None:
        await self.conn.aclose()
