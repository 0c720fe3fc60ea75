"""After a server error the client's keep-alive connection stays usable (issue 10, finding 3).

A real uvicorn server (in a thread, on the session's services and engine) and one httpx connection:
each test provokes an error, then sends an innocent request and checks it went over the same socket.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.responses import StreamingResponse

from jaju.app import create_app
from tests.support import free_port

MODEL = "qwen2.5-coder-0.5b-instruct"


class Server:
    def __init__(self, app: FastAPI):
        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, lifespan="off",
                                                    log_level="critical"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


def fails_mid_stream() -> StreamingResponse:
    """A test-only route: an event stream whose generator breaks after its first event."""
    async def events() -> AsyncIterator[bytes]:
        yield b'data: {"choices": [{"delta": {"content": "\xec\x95\x88"}}]}\n\n'
        raise RuntimeError("the engine went away mid-stream")
    return StreamingResponse(events(), media_type="text/event-stream")


@pytest.fixture(scope="module")
def server(services) -> Iterator[str]:
    app = create_app(services=services, load_models=False)
    app.add_api_route("/test-only/fails-mid-stream", fails_mid_stream)
    with Server(app) as base:
        yield base


@pytest.fixture(scope="module")
def key(services) -> str:
    return services.keys.create("default", ["inference"], name="keepalive")[1]


@pytest.fixture
def client(server, key) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server, headers={"Authorization": f"Bearer {key}"}, timeout=60,
                      limits=httpx.Limits(max_connections=1, max_keepalive_connections=1)) as c:
        yield c


def socket_of(r: httpx.Response) -> tuple[str, int]:
    """The client side of the TCP connection a response came over."""
    return r.extensions["network_stream"].get_extra_info("client_addr")


def assert_still_usable(client: httpx.Client, before: tuple[str, int]) -> None:
    after = client.get("/v1/models")
    assert after.status_code == 200 and any(m["id"] == MODEL for m in after.json()["data"])
    assert socket_of(after) == before, "the server closed the connection after the error"


def test_500_leaves_the_connection_usable(client, services, monkeypatch, caplog):
    async def broken(*args, **kwargs):
        raise RuntimeError("tokenizer exploded")
    monkeypatch.setattr(services.inference, "count_tokens", broken)
    r = client.post("/v1/tokenize", json={"model": MODEL, "text": "안녕하세요"})
    assert r.status_code == 500
    assert r.json()["error"] == {"message": "Internal error; the operator's log has the details.",
                                 "type": "api_error", "param": None, "code": "internal_error"}
    assert "tokenizer exploded" not in r.text
    assert_still_usable(client, socket_of(r))


def test_error_mid_stream_ends_the_stream_cleanly(client):
    with client.stream("GET", "/test-only/fails-mid-stream") as r:
        assert r.status_code == 200
        events = [line for line in r.iter_lines() if line.startswith("data: ")]
        before = socket_of(r)
    assert json.loads(events[0][6:])["choices"][0]["delta"]["content"] == "안"
    assert json.loads(events[-1][6:])["error"]["code"] == "internal_error"
    assert_still_usable(client, before)


def test_real_chat_stream_failing_mid_way(client, services, monkeypatch):
    """The real chat route and SSE path, with the engine breaking after the first delta."""
    backend = services.models.loaded()[MODEL]
    real_chat = backend.chat

    async def flaky(request, *args, **kwargs):
        produced = 0
        async for delta in real_chat(request, *args, **kwargs):
            if produced == 2:
                raise RuntimeError("engine fault")
            produced += 1
            yield delta
    monkeypatch.setattr(backend, "chat", flaky)
    body = {"model": MODEL, "stream": True, "max_tokens": 12, "temperature": 0,
            "messages": [{"role": "user", "content": "대한민국의 수도는 어디인가요?"}]}
    with client.stream("POST", "/v1/chat/completions", json=body) as r:
        lines = [line for line in r.iter_lines() if line.startswith("data: ")]
        before = socket_of(r)
    assert r.status_code == 200, lines
    assert json.loads(lines[-1][6:])["error"]["type"] in ("api_error", "server_error")
    assert_still_usable(client, before)


@pytest.mark.parametrize("body", [
    b'{"model": "qwen2.5-coder-0.5b-instruct", "messages": [{"role": "user", "content": "\\ud800x"}]}',
    b'{"model": "qwen2.5-coder-0.5b-instruct", "messages": [{"role": "user", "content": "a"}], "stream": "yes"}',
    b"[" * 50_000,
])
def test_bad_input_keeps_the_connection(client, body):
    r = client.post("/v1/chat/completions", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 400, r.text
    assert_still_usable(client, socket_of(r))
