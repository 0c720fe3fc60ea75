"""Prometheus metrics, on a registry owned by the app (no process-global collectors).

With `jaju serve --workers N` every worker and the engine process count into files under
PROMETHEUS_MULTIPROC_DIR (prometheus_client's multiprocess mode, switched on by the supervisor before
it starts them), and `/metrics` from any worker shows the sum over all of them. Gauges say how they
combine: the engine's queue and active sequences are summed over live processes, the last decode speed
is the most recent value any process wrote.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
from collections.abc import Callable
from pathlib import Path

from prometheus_client import (CollectorRegistry, Counter, Gauge, Histogram, generate_latest, start_http_server,
                               values)
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

log = logging.getLogger("jaju.metrics")
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
POLL_SECONDS = 1.0


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.multiprocess_dir = multiprocess_dir()
        if self.multiprocess_dir is not None:
            MultiProcessCollector(self.registry, path=self.multiprocess_dir)
        # In multiprocess mode the values live in files; the collector above reads them all.
        r = None if self.multiprocess_dir is not None else self.registry
        self._polled: list[tuple[Gauge, Callable[[], float]]] = []
        self._poller: threading.Thread | None = None
        self._lock = threading.Lock()
        self.requests = Counter("jaju_requests_total", "API requests", ["route", "status"], registry=r)
        self.latency = Histogram("jaju_request_seconds", "Request latency", ["route"], registry=r,
                                 buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120))
        self.ttft = Histogram("jaju_time_to_first_token_seconds", "Time to first token", ["model"], registry=r,
                              buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
        self.tokens = Counter("jaju_tokens_total", "Tokens processed", ["model", "kind"], registry=r)
        self.tokens_per_second = Gauge("jaju_generation_tokens_per_second",
                                       "Decode speed of the last finished generation", ["model"], registry=r,
                                       multiprocess_mode="mostrecent")
        self.queue_depth = Gauge("jaju_engine_queue_depth", "Requests waiting for an engine slot", ["model"],
                                 registry=r, multiprocess_mode="livesum")
        self.active = Gauge("jaju_engine_active_sequences", "Sequences being generated", ["model"], registry=r,
                            multiprocess_mode="livesum")
        self.audit_queue = self._polled_gauge("jaju_audit_queue_depth", "Audit events waiting to be written", r,
                                              "livesum")
        self.audit_failures = self._polled_gauge("jaju_audit_write_failures", "Audit events that failed to write",
                                                 r, "sum")

    def _polled_gauge(self, name: str, doc: str, registry, mode: str) -> Gauge:
        gauge = Gauge(name, doc, registry=registry, multiprocess_mode=mode)
        if self.multiprocess_dir is not None:
            # A function gauge is read at scrape time, which another process cannot do: poll it instead,
            # so `gauge.set_function(f)` means the same in both modes.
            gauge.set_function = lambda f, g=gauge: self.poll(g, f)
        return gauge

    def watch_engine(self, model: str, queue_depth: Callable[[], int], active: Callable[[], int]) -> None:
        self.poll(self.queue_depth.labels(model), queue_depth)
        self.poll(self.active.labels(model), active)

    def poll(self, gauge: Gauge, read: Callable[[], float]) -> None:
        """Keep `gauge` at `read()`: at scrape time in one process, every POLL_SECONDS across processes."""
        if self.multiprocess_dir is None:
            Gauge.set_function(gauge, read)
            return
        with self._lock:
            self._polled.append((gauge, read))
            if self._poller is None:
                self._poller = threading.Thread(target=self._poll_forever, name="jaju-metrics", daemon=True)
                self._poller.start()
        gauge.set(read())

    def refresh(self) -> None:
        with self._lock:
            polled = list(self._polled)
        for gauge, read in polled:
            try:
                gauge.set(read())
            except Exception:  # a broken reader must not stop the others; the next round retries
                log.exception("metrics: reading a gauge failed")

    def _poll_forever(self) -> None:
        stop = threading.Event()
        while not stop.wait(POLL_SECONDS):
            self.refresh()

    def render(self) -> bytes:
        self.refresh()
        return generate_latest(self.registry)


def multiprocess_dir() -> str | None:
    """The shared metrics directory, if this process was started in multiprocess mode."""
    path = os.environ.get(MULTIPROC_ENV)
    # prometheus_client picks file-backed values when it is imported; the variable alone is not enough.
    if path and values.ValueClass is not values.MutexValue:
        return path
    return None


def prepare_multiprocess(path: Path) -> None:
    """Start every process the supervisor spawns in multiprocess mode, on an empty directory."""
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True, mode=0o700)
    os.environ[MULTIPROC_ENV] = str(path)


def process_died(pid: int) -> None:
    """Drop a dead process's live gauges (the supervisor calls this before restarting it)."""
    path = os.environ.get(MULTIPROC_ENV)
    if path:
        mark_process_dead(pid, path)


def serve_registry(registry: CollectorRegistry, bind: str) -> Callable[[], None]:
    """Serve `registry` without a key on `bind` (host:port) in a thread; returns the function that stops it."""
    host, _, port = bind.rpartition(":")
    server, thread = start_http_server(int(port), host.strip("[]"), registry=registry)

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    return stop
