"""A minimal, fast OpenAI-compatible upstream for gateway benchmarks: canned replies, no model, no framework.

Raw asyncio HTTP/1.1 with keep-alive, so the gateways in front of it are what gets measured. Answers
POST /v1/chat/completions with a fixed `chat.completion` (or a short SSE stream when `"stream": true`),
GET /health and GET /v1/models; everything else is 404.

    python benchmarks/gateway_upstream.py --port 18500
"""

from __future__ import annotations

import argparse
import asyncio
import json

ANSWER = "대한민국의 수도는 서울입니다."
USAGE = {"prompt_tokens": 412, "completion_tokens": 9, "total_tokens": 421}
COMPLETION = json.dumps({
    "id": "chatcmpl-bench", "object": "chat.completion", "created": 1767225600, "model": "bench",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": ANSWER}, "finish_reason": "stop"}],
    "usage": USAGE}, ensure_ascii=False).encode()


def _chunk(delta: dict, finish: str | None = None, usage: dict | None = None) -> bytes:
    body = {"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 1767225600, "model": "bench",
            "choices": [] if usage else [{"index": 0, "delta": delta, "finish_reason": finish}]}
    if usage:
        body["usage"] = usage
    return b"data: " + json.dumps(body, ensure_ascii=False).encode() + b"\n\n"


STREAM = b"".join([_chunk({"role": "assistant", "content": ""}), _chunk({"content": ANSWER}), _chunk({}, "stop"),
                   _chunk({}, usage=USAGE), b"data: [DONE]\n\n"])
MODELS = json.dumps({"object": "list", "data": [{"id": "bench", "object": "model", "owned_by": "bench"}]}).encode()


def _response(status: str, content_type: str, body: bytes) -> bytes:
    return (f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
            "Connection: keep-alive\r\n\r\n").encode() + body


async def _handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, path, _ = lines[0].split(" ", 2)
            headers = {k.strip().lower(): v.strip() for k, v in (x.split(":", 1) for x in lines[1:] if ":" in x)}
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            if method == "POST" and path.endswith("/chat/completions"):
                streamed = b'"stream":true' in body.replace(b" ", b"")
                writer.write(_response("200 OK", "text/event-stream", STREAM) if streamed
                             else _response("200 OK", "application/json", COMPLETION))
            elif method == "GET" and path in ("/health", "/v1/health"):
                writer.write(_response("200 OK", "application/json", b'{"status":"ok"}'))
            elif method == "GET" and path.endswith("/models"):
                writer.write(_response("200 OK", "application/json", MODELS))
            else:
                writer.write(_response("404 Not Found", "application/json", b'{"error":{"message":"not found"}}'))
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass  # the client closed its connection: normal end of a keep-alive session
    finally:
        writer.close()


async def main(port: int) -> None:
    server = await asyncio.start_server(_handle, "127.0.0.1", port, backlog=1024)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    asyncio.run(main(ap.parse_args().port))
