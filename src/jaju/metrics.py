"""Prometheus metrics, on a registry owned by the app (no process-global collectors)."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter("jaju_requests_total", "API requests", ["route", "status"], registry=r)
        self.latency = Histogram("jaju_request_seconds", "Request latency", ["route"], registry=r,
                                 buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120))
        self.ttft = Histogram("jaju_time_to_first_token_seconds", "Time to first token", ["model"], registry=r,
                              buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
        self.tokens = Counter("jaju_tokens_total", "Tokens processed", ["model", "kind"], registry=r)
        self.tokens_per_second = Gauge("jaju_generation_tokens_per_second",
                                       "Decode speed of the last finished generation", ["model"], registry=r)
        self.queue_depth = Gauge("jaju_engine_queue_depth", "Requests waiting for an engine slot", ["model"],
                                 registry=r)
        self.active = Gauge("jaju_engine_active_sequences", "Sequences being generated", ["model"], registry=r)
        self.audit_queue = Gauge("jaju_audit_queue_depth", "Audit events waiting to be written", registry=r)
        self.audit_failures = Gauge("jaju_audit_write_failures", "Audit events that failed to write", registry=r)

    def watch_engine(self, model: str, queue_depth: Callable[[], int], active: Callable[[], int]) -> None:
        self.queue_depth.labels(model).set_function(queue_depth)
        self.active.labels(model).set_function(active)

    def render(self) -> bytes:
        return generate_latest(self.registry)
