"""Optional OpenTelemetry traces: one span per request, child spans per step, OTLP over HTTP.

Off by default: jaju makes no outside calls unless told to. When `[telemetry] otlp_endpoint` is set,
the endpoint must be on this machine or a host declared as a backend (the egress rules apply), and the
OpenTelemetry SDK must be installed (`pip install 'jaju[telemetry]'`). With telemetry off every call
here is a no-op on a shared object, so the request path pays nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from jaju.errors import ConfigError

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


class Span:
    """A request's span, or nothing at all (`Span.off()`)."""

    __slots__ = ("_span", "_tracer")

    def __init__(self, span: Any = None, tracer: Any = None):
        self._span = span
        self._tracer = tracer

    @staticmethod
    def off() -> Span:
        return _OFF

    @property
    def recording(self) -> bool:
        return self._span is not None

    @property
    def trace_id(self) -> str | None:
        """The W3C trace id (32 hex digits), for the response header and the audit event."""
        if self._span is None:
            return None
        return format(self._span.get_span_context().trace_id, "032x")

    @contextlib.contextmanager
    def child(self, name: str, **attributes: Any) -> Iterator[Span]:
        """A child span around one step (auth, policy, pii, routing, engine, labelling, audit)."""
        if self._span is None:
            yield self
            return
        from opentelemetry import trace
        ctx = trace.set_span_in_context(self._span)
        with self._tracer.start_as_current_span(name, context=ctx, attributes=_attrs(attributes)) as span:
            yield Span(span, self._tracer)

    def record(self, name: str, start_ns: int, end_ns: int) -> None:
        """A child span for a step that ran before this span existed (authentication)."""
        if self._span is None:
            return
        from opentelemetry import trace
        child = self._tracer.start_span(name, context=trace.set_span_in_context(self._span), start_time=start_ns)
        child.end(end_time=end_ns)

    def set(self, key: str, value: Any) -> None:
        if self._span is not None and value is not None:
            self._span.set_attribute(key, value if isinstance(value, (bool, int, float, str)) else str(value))

    def end(self, status: int | str | None = None) -> None:
        if self._span is not None:
            self.set("http.response.status_code", status)
            self._span.end()


_OFF = Span()


def _attrs(attributes: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in attributes.items() if isinstance(v, (bool, int, float, str))}


class Telemetry:
    """Starts request spans; `Telemetry.off()` when no endpoint is configured."""

    def __init__(self, tracer: Any = None, provider: Any = None):
        self._tracer = tracer
        self._provider = provider

    @staticmethod
    def off() -> Telemetry:
        return Telemetry()

    @property
    def enabled(self) -> bool:
        return self._tracer is not None

    def request(self, name: str, start_ns: int | None = None, **attributes: Any) -> Span:
        if self._tracer is None:
            return _OFF
        return Span(self._tracer.start_span(name, attributes=_attrs(attributes), start_time=start_ns),
                    self._tracer)

    def shutdown(self) -> None:
        if self._provider is not None:
            self._provider.shutdown()


def build_telemetry(endpoint: str | None, service_name: str, allowed_hosts: set[tuple[str, int]],
                    exporter: Any = None) -> Telemetry:
    """A Telemetry exporting to `endpoint` (OTLP/HTTP), or off when there is none.

    `exporter` replaces the OTLP exporter (tests pass an in-memory one).
    """
    if not endpoint and exporter is None:
        return Telemetry.off()
    if endpoint:
        _check_egress(endpoint, allowed_hosts)
    try:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError:
        raise ConfigError("telemetry.otlp_endpoint is set but the OpenTelemetry SDK is not installed. "
                          "Run: pip install 'jaju[telemetry]'") from None
    if exporter is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        exporter = OTLPSpanExporter(endpoint=endpoint.rstrip("/") + "/v1/traces"
                                    if not endpoint.rstrip("/").endswith("/v1/traces") else endpoint)
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=500))
    return Telemetry(provider.get_tracer("jaju"), provider)


def _check_egress(endpoint: str, allowed_hosts: set[tuple[str, int]]) -> None:
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"telemetry.otlp_endpoint must be an http(s) URL, e.g. http://127.0.0.1:4318; "
                          f"got {endpoint!r}.")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    host = parts.hostname.lower()
    if host not in LOCAL_HOSTS and (host, port) not in {(h.lower(), p) for h, p in allowed_hosts}:
        raise ConfigError(f"telemetry.otlp_endpoint {host}:{port} is neither on this machine nor a declared "
                          "host; traces would leave the deployment. Use a collector on this machine, or "
                          "declare the host under [[jurisdictions.XX.backends]].")
