"""`jaju serve --workers N`: one engine process, N API workers on one port, each restarted if it dies.

The supervisor holds the port and tells each worker how to listen on it (`listening.Listeners`): on Linux
each worker on a socket of its own in one SO_REUSEPORT group, so the kernel spreads connections evenly and
a dead worker's socket goes with it; elsewhere, or with one worker, all on one socket the supervisor
bound. The engine process is started first; while it is down (crashed, being restarted) the workers
stay up and answer 503 `engine_unavailable` until it is back, then reconnect by themselves.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import shutil
import signal
import threading
import time
from collections.abc import Callable
from multiprocessing.process import BaseProcess
from pathlib import Path

from prometheus_client import CollectorRegistry
from prometheus_client.multiprocess import MultiProcessCollector

from jaju.engine.ipc.listening import Listeners
from jaju.engine.ipc.processes import engine_main, worker_main
from jaju.engine.ipc.wire import endpoint, run_dir
from jaju.engine.ipc.worker import ENGINE_START_SECONDS
from jaju.errors import JajuError
from jaju.metrics import prepare_multiprocess, process_died, serve_registry

log = logging.getLogger("jaju.serve")
CHECK_SECONDS = 0.25
STOP_SECONDS = 15.0


class Supervisor:
    def __init__(self, config: str | None, data_dir: Path, host: str, port: int, workers: int,
                 metrics_bind: str | None = None):
        self.config = config
        self.metrics_bind = metrics_bind
        self.on_ready: Callable[[], None] | None = None
        self.data_dir = data_dir
        self.host, self.port = host, port
        self.n_workers = workers
        self._spawn = multiprocessing.get_context("spawn")
        self._stop = threading.Event()
        self.run: Path | None = None
        self.endpoint = ""
        self.engine: BaseProcess | None = None
        self.workers: list[BaseProcess] = []
        self._listeners: Listeners | None = None
        self._stop_metrics: Callable[[], None] | None = None

    # --- processes ----------------------------------------------------------------------------
    def _start_engine(self) -> None:
        self._ready = self._spawn.Event()
        self.engine = self._spawn.Process(target=engine_main, name="jaju-engine", daemon=False,
                                          args=(self.config, str(self.data_dir), self.endpoint, self._ready))
        self.engine.start()

    def _wait_engine(self) -> None:
        deadline = time.monotonic() + ENGINE_START_SECONDS
        while not self._ready.wait(0.2):
            if not self.engine.is_alive() or self._stop.is_set() or time.monotonic() > deadline:
                raise JajuError("The engine process could not start; its log lines above say why.")

    def _start_worker(self) -> BaseProcess:
        proc = self._spawn.Process(target=worker_main, name="jaju-worker", daemon=False,
                                   args=(self.config, str(self.data_dir), self.endpoint, self.run,
                                         self._listeners.for_worker()))
        proc.start()
        return proc

    def _wait_listening(self) -> None:
        """Until a worker accepts connections: in a SO_REUSEPORT group nothing listens before one has started
        (on a shared socket the kernel queues them from the start)."""
        if not self._listeners.balanced:
            return
        deadline = time.monotonic() + ENGINE_START_SECONDS
        while not self._listeners.accepting():
            if self._stop.is_set() or time.monotonic() > deadline or not any(p.is_alive() for p in self.workers):
                raise JajuError("No API worker started listening; their log lines above say why.")
            time.sleep(0.1)

    # --- the loop -----------------------------------------------------------------------------
    def start(self) -> None:
        """Bind, start the engine and the workers; return once the engine has loaded its models."""
        self.run = run_dir(self.data_dir, os.getpid())
        prepare_multiprocess(self.run / "metrics")
        self.endpoint = endpoint(self.run)
        self._listeners = Listeners(self.host, self.port, self.n_workers)
        self._start_engine()
        # Workers build their services while the engine loads its models, then wait for it.
        self.workers = [self._start_worker() for _ in range(self.n_workers)]
        self._wait_engine()
        self._wait_listening()
        if self.metrics_bind:  # one metrics port for all workers, served from here
            registry = CollectorRegistry()
            MultiProcessCollector(registry, path=str(self.run / "metrics"))
            self._stop_metrics = serve_registry(registry, self.metrics_bind)
        self._write_pids()
        if self.on_ready is not None:
            self.on_ready()

    def watch(self) -> None:
        """Restart whatever dies until told to stop (SIGTERM, SIGINT)."""
        while not self._stop.wait(CHECK_SECONDS):
            if not self.engine.is_alive():
                log.error("the engine process (pid %s) exited with %s; restarting it", self.engine.pid,
                          self.engine.exitcode)
                process_died(self.engine.pid)
                self._start_engine()  # workers answer 503 until it is ready, then reconnect
                self._write_pids()
            for i, proc in enumerate(self.workers):
                if not proc.is_alive():
                    log.error("worker pid %s exited with %s; restarting it", proc.pid, proc.exitcode)
                    process_died(proc.pid)
                    self.workers[i] = self._start_worker()
                    self._write_pids()

    def _write_pids(self) -> None:
        """run/<pid>/pids.json: which process is which, for operators and tests."""
        pids = {"supervisor": os.getpid(), "engine": self.engine.pid, "workers": [p.pid for p in self.workers]}
        tmp = self.run / "pids.json.tmp"
        tmp.write_text(json.dumps(pids))
        tmp.replace(self.run / "pids.json")

    def stop(self, *_) -> None:
        self._stop.set()

    def shutdown(self) -> None:
        """Workers first (they finish their requests), then the engine they were using."""
        for proc in self.workers:
            if proc.is_alive():
                proc.terminate()
        _join(self.workers, STOP_SECONDS)
        if self.engine is not None and self.engine.is_alive():
            self.engine.terminate()
            _join([self.engine], STOP_SECONDS)
        if self._listeners is not None:
            self._listeners.close()
        if self._stop_metrics is not None:
            self._stop_metrics()
        if self.run is not None:
            shutil.rmtree(self.run, ignore_errors=True)

    def serve(self) -> None:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        try:
            self.start()
            self.watch()
        finally:
            self.shutdown()


def _join(procs: list[BaseProcess], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    for proc in procs:
        proc.join(max(0.0, deadline - time.monotonic()))
        if proc.is_alive():
            log.warning("pid %s did not stop within %.0f s; killing it", proc.pid, seconds)
            proc.kill()
            proc.join(5)
