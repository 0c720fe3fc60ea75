"""OpenTelemetry: one span per request with child spans per step, exported over real OTLP/HTTP to a
collector on this machine; the trace id is in the response header and in the audit event."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from sqlalchemy import select

from jaju.app import create_app
from jaju.cli.serve import bootstrap
from jaju.errors import ConfigError
from jaju.services import build_services
from jaju.store.tables import AuditEvent
from jaju.telemetry import build_telemetry
from tests.support import close_services, link_models, make_settings

MODEL = "qwen2.5-coder-0.5b-instruct"


class Collector:
    """A minimal OTLP/HTTP trace receiver: decodes every export into (name, trace id, span id, parent)."""

    def __init__(self):
        self.spans: list[dict] = []
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                request = ExportTraceServiceRequest()
                request.ParseFromString(body)
                for rs in request.resource_spans:
                    for ss in rs.scope_spans:
                        for s in ss.spans:
                            collector.spans.append({"name": s.name, "trace_id": s.trace_id.hex(),
                                                    "span_id": s.span_id.hex(),
                                                    "parent": s.parent_span_id.hex() or None,
                                                    "attrs": {a.key: a.value for a in s.attributes}})
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def traced(tmp_path, qwen_gguf):
    collector = Collector()
    link_models(tmp_path, qwen_gguf)
    services = build_services(make_settings(tmp_path, telemetry={"otlp_endpoint": collector.url}))
    secret = bootstrap(services)
    services.load_models()
    yield services, secret, collector
    collector.close()
    close_services(services)


@pytest.mark.anyio
@pytest.mark.engine
async def test_request_span_with_steps_reaches_the_collector(traced):
    services, secret, collector = traced
    app = create_app(services=services, load_models=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://jaju.test",
                                 headers={"Authorization": f"Bearer {secret}"}) as api:
        r = await api.post("/v1/chat/completions", json={
            "model": MODEL, "max_tokens": 8, "temperature": 0,
            "messages": [{"role": "user", "content": "제 이름은 홍길동입니다. 대한민국의 수도는 어디인가요?"}]})
    assert r.status_code == 200, r.text
    trace_id = r.headers["X-Jaju-Trace-ID"]
    assert len(trace_id) == 32 and int(trace_id, 16) != 0
    services.telemetry.shutdown()  # flushes the batch processor to the collector

    spans = [s for s in collector.spans if s["trace_id"] == trace_id]
    root = next(s for s in spans if s["name"] == "chat.completions")
    assert root["parent"] is None
    children = {s["name"] for s in spans if s["parent"] == root["span_id"]}
    assert {"auth", "policy", "safeguards", "engine.first_token", "engine.generate", "labelling",
            "audit"} <= children
    # no prompt text travels in the trace
    assert "홍길동" not in json.dumps([str(s["attrs"]) for s in spans], ensure_ascii=False)

    request_id = r.headers["X-Request-ID"]
    with services.db.sessions() as s:
        bodies = s.scalars(select(AuditEvent.body).where(AuditEvent.action == "chat.completions")).all()
    event = next(json.loads(b) for b in bodies if request_id in b)
    assert event["trace_id"] == trace_id


def test_endpoint_off_the_machine_is_refused_unless_declared():
    with pytest.raises(ConfigError) as e:
        build_telemetry("http://collector.example.com:4318", "jaju", set())
    assert "leave the deployment" in str(e.value)
    assert build_telemetry(None, "jaju", set()).enabled is False
    declared = build_telemetry("http://collector.example.com:4318", "jaju", {("collector.example.com", 4318)})
    assert declared.enabled
    declared.shutdown()
