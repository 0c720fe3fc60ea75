"""A real HTTP server on loopback that answers like the upstreams jaju must survive.

The scenario is the model name in the request body, so one server plays every part: a server that
ignores `stream`, one that streams when asked not to, an HTML error page behind a 200, a stream cut
short, a chunk that is not JSON, and one that goes silent between chunks.
"""

from __future__ import annotations

import json
import socket
import socketserver
import threading
from collections import Counter
from collections.abc import Callable

ANSWER = ["대한민국의 ", "수도는 ", "서울입니다."]
USAGE = {"prompt_tokens": 21, "completion_tokens": 9, "total_tokens": 30}


def chat_json() -> dict:
    return {"id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": "m",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "".join(ANSWER)},
                         "finish_reason": "stop"}], "usage": USAGE}


def text_json() -> dict:
    return {"id": "cmpl-1", "object": "text_completion", "created": 0, "model": "m",
            "choices": [{"index": 0, "text": "".join(ANSWER), "finish_reason": "length"}], "usage": USAGE}


def chunk(content: str | None = None, finish: str | None = None, **delta) -> bytes:
    if content is not None:
        delta["content"] = content
    body = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 0, "model": "m",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    return b"data: " + json.dumps(body, ensure_ascii=False).encode() + b"\n\n"


def usage_chunk() -> bytes:
    body = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "choices": [], "usage": USAGE}
    return b"data: " + json.dumps(body).encode() + b"\n\n"


DONE = b"data: [DONE]\n\n"
TOOL_PIECES = ([{"index": 0, "id": "call_w", "type": "function",
                 "function": {"name": "get_weather", "arguments": ""}}],
               [{"index": 0, "function": {"arguments": "{\"city\": \"서울\"}"}}])


def _head(content_type: str, length: int | None = None, extra: str = "") -> bytes:
    head = f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nConnection: close\r\n{extra}"
    if length is not None:
        head += f"Content-Length: {length}\r\n"
    return (head + "\r\n").encode()


def _whole(content_type: str, body: bytes) -> list[bytes]:
    return [_head(content_type, len(body)) + body]


SSE = "text/event-stream"
GOOD_STREAM = [chunk(role="assistant", content=""), *(chunk(p) for p in ANSWER), chunk(finish="stop"), usage_chunk(),
               DONE]
HANG = object()  # in a script: stop sending until the test ends (or 10 s pass)

SCENARIOS: dict[str, Callable[[], list]] = {
    "json": lambda: _whole("application/json", json.dumps(chat_json(), ensure_ascii=False).encode()),
    "json-untyped": lambda: _whole("", json.dumps(chat_json(), ensure_ascii=False).encode()),
    "text-json": lambda: _whole("application/json; charset=utf-8", json.dumps(text_json()).encode()),
    "sse": lambda: [_head(SSE), *GOOD_STREAM],
    "sse-tools": lambda: [_head(SSE), chunk(role="assistant", tool_calls=TOOL_PIECES[0]),
                          chunk(tool_calls=TOOL_PIECES[1]), chunk(finish="tool_calls"), usage_chunk(), DONE],
    "html": lambda: _whole("text/html", b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"),
    "empty": lambda: _whole("application/json", b""),
    "not-json": lambda: _whole("application/json", "{\"choices\": [서울".encode()),
    "not-openai": lambda: _whole("application/json", b'{"result": "ok"}'),
    "error-200": lambda: _whole("application/json", b'{"error": {"message": "model overloaded"}}'),
    "plain": lambda: _whole("text/plain", "주민번호 900101-1234567 서울".encode()),
    "truncated": lambda: [_head(SSE), chunk(role="assistant", content=""), chunk(ANSWER[0]), chunk(ANSWER[1])],
    "bad-chunk": lambda: [_head(SSE), chunk(ANSWER[0]), b"data: {\"choices\": [{\"delta\": \n\n", DONE],
    "bad-first": lambda: [_head(SSE), b"data: <html>oops</html>\n\n", DONE],
    "hang": lambda: [_head(SSE), chunk(ANSWER[0]), HANG, chunk(finish="stop"), DONE],
    "hang-first": lambda: [_head(SSE), HANG, *GOOD_STREAM],
    "only-done": lambda: [_head(SSE), DONE],
    # A good reply that also sets a cookie (a load balancer's session stickiness, say).
    "set-cookie": lambda: [_head("application/json", len(body := json.dumps(chat_json()).encode()),
                                 "Set-Cookie: lb_session=tenant-a-7f3c; Path=/\r\n") + body],
}


class MisbehavingUpstream:
    """Serves SCENARIOS on 127.0.0.1; counts the requests each scenario got.

    Another table may be given; with `with_request` its scenarios are called with the request's JSON
    body (to answer with what was sent), and `last[scenario]` keeps the body each scenario got last.
    """

    def __init__(self, scenarios: dict[str, Callable[..., list]] | None = None, *, with_request: bool = False) -> None:
        self.scenarios = SCENARIOS if scenarios is None else scenarios
        self.with_request = with_request
        self.requests: Counter[str] = Counter()
        self.last: dict[str, dict] = {}
        self.headers: dict[str, list[bytes]] = {}  # scenario -> request header lines, lower-cased, last request
        self._release = threading.Event()
        upstream = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                upstream._serve(self.request)

        socketserver.ThreadingTCPServer.daemon_threads = True
        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> MisbehavingUpstream:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()

    def _serve(self, sock: socket.socket) -> None:
        data = b""
        while b"\r\n\r\n" not in data:
            got = sock.recv(65536)
            if not got:
                return
            data += got
        head, body = data.split(b"\r\n\r\n", 1)
        length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                       if line.lower().startswith(b"content-length:")), 0)
        while len(body) < length:
            body += sock.recv(65536)
        request = json.loads(body)
        scenario = request.get("model", "")
        self.requests[scenario] += 1
        self.last[scenario] = request
        self.headers[scenario] = [line.lower() for line in head.split(b"\r\n")[1:]]
        make = self.scenarios[scenario]
        try:
            for part in (make(request) if self.with_request else make()):
                if part is HANG:
                    self._release.wait(10)
                else:
                    sock.sendall(part)
        except OSError:
            return  # the client gave up on us: that is the point of some scenarios
