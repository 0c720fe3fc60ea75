"""What runs in each process `jaju serve` starts: the engine process, and an API worker.

Both are started with the `spawn` method (a fresh interpreter: no threads, locks or database
connections inherited from the supervisor) and read the same settings the supervisor read.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
from pathlib import Path

import uvicorn

from jaju import logs
from jaju.engine.catalog import EMBEDDING_MODEL
from jaju.engine.ipc.listening import GroupMember
from jaju.engine.ipc.worker import WorkerRole
from jaju.heap import freeze_startup_objects
from jaju.settings import Settings, load_settings

log = logging.getLogger("jaju.serve")
WORKER_HEADER_ENV = "JAJU_SERVE_WORKER_HEADER"  # "1": answers carry x-jaju-worker: <pid> (tests, debugging)


def _settings(config: str | None, data_dir: str | None) -> Settings:
    settings = load_settings(config, data_dir=data_dir)
    logs.configure(settings.log_level, f"[{os.getpid()}]")
    return settings


def exit_with_parent() -> None:
    """Stop this process (SIGTERM to itself) when the supervisor is gone, so nothing is left orphaned."""
    import threading
    import time

    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        log.error("the supervisor (pid %s) is gone; stopping", parent)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="jaju-parent-watch", daemon=True).start()


def engine_main(config: str | None, data_dir: str | None, endpoint: str, ready) -> None:
    """The engine process: load the default chat model and e5, then serve workers until SIGTERM."""
    from jaju.engine.ipc.server import serve_forever
    from jaju.engine.registry import ModelRegistry
    from jaju.metrics import Metrics
    from jaju.store import Database

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the supervisor, which stops workers first
    settings = _settings(config, data_dir)
    exit_with_parent()
    db = Database(settings.effective_database_url)  # operator-added models are listed there
    metrics = Metrics()
    registry = ModelRegistry(settings, db)
    registry.load_sync(settings.engine.default_model)
    registry.load_sync(EMBEDDING_MODEL)
    for name, backend in registry.loaded().items():
        scheduler = getattr(backend, "scheduler", None)
        if scheduler is not None:
            metrics.watch_engine(name, lambda s=scheduler: s.queue_depth, lambda s=scheduler: s.active)
    freeze_startup_objects()  # a full GC pass over the loaded engine would stall every stream (jaju/heap.py)
    log.info("engine process ready: %s", ", ".join(registry.loaded()))
    try:
        serve_forever(registry, endpoint, on_ready=ready.set)
    finally:
        db.dispose()


def worker_main(config: str | None, data_dir: str | None, endpoint: str, run: Path,
                listen_on: socket.socket | GroupMember) -> None:
    """One API worker: Services built for that role (the engine over IPC), uvicorn on the port: on its own
    socket of the port's SO_REUSEPORT group, or on the socket all workers share (listening.py)."""
    from jaju.app import create_app
    from jaju.services import build_services

    settings = _settings(config, data_dir)
    exit_with_parent()
    services = build_services(settings, migrate=False, worker=WorkerRole(endpoint, run))
    app = create_app(services=services, load_models=False, warm_up=True)
    asgi = _WorkerHeader(app) if os.environ.get(WORKER_HEADER_ENV) == "1" else app
    try:
        sock = listen_on.bind() if isinstance(listen_on, GroupMember) else listen_on
        QuietServer(server_config(asgi, settings)).run(sockets=[sock])
    finally:
        services.usage.flush()
        services.audit.close()
        services.db.dispose()


def server_config(app, settings: Settings) -> uvicorn.Config:
    """How an API worker's uvicorn runs `app`: no access log, the app's lifespan, and keep-alive connections
    held for `server.keep_alive_seconds` (uvicorn's own 5 s equals the idle expiry of httpx and the `openai`
    client, so a request sent on a connection just as the server closed it failed as a ReadError)."""
    return uvicorn.Config(app, log_level=settings.log_level, access_log=False, timeout_graceful_shutdown=10,
                          timeout_keep_alive=settings.server.keep_alive_seconds, lifespan="on")


class QuietServer(uvicorn.Server):
    """uvicorn's server with its housekeeping tick once a second instead of ten times.

    uvicorn wakes its loop every 0.1 s to refresh the Date header (once a second) and look for a stop
    signal. Each wake of an idle worker costs about 0.25 ms of CPU here (2.5 ms a second, measured with
    a bare uvicorn), taken from the llama.cpp threads on a small machine. This one wakes once a second,
    and at once when a stop signal comes, so shutting down is not slower.
    """

    TICK = 1.0
    _wake: asyncio.Event | None = None

    async def main_loop(self) -> None:
        self._wake = asyncio.Event()
        counter = 0  # in uvicorn's tenths of a second: on_tick refreshes the Date header at multiples of 10
        should_exit = await self.on_tick(counter)
        while not should_exit:
            counter = (counter + 10) % 864000
            try:
                await asyncio.wait_for(self._wake.wait(), self.TICK)
            except TimeoutError:
                pass
            should_exit = await self.on_tick(counter)

    def handle_exit(self, sig: int, frame) -> None:
        super().handle_exit(sig, frame)
        if self._wake is not None:
            try:  # a signal handler runs on the loop's own thread, between its callbacks
                asyncio.get_running_loop().call_soon(self._wake.set)
            except RuntimeError:  # the loop is not running (yet, or any more): on_tick will see should_exit
                pass


class _WorkerHeader:
    """Adds x-jaju-worker: <pid> to every answer, so a test can see which worker served it."""

    def __init__(self, app):
        self.app = app
        self.pid = str(os.getpid()).encode()

    def __getattr__(self, name):
        return getattr(self.app, name)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def tagged(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (b"x-jaju-worker", self.pid)]}
            await send(message)

        return await self.app(scope, receive, tagged)
