"""A stand-in upstream for /v1/responses: a real HTTP server on loopback that replays fixed replies.

It is NOT the native upstream these tests rely on for answers (that is the real llama.cpp
`llama-server`, which serves /v1/responses itself). It exists only to test jaju's own logic around a
pass-through: reading Responses JSON and typed events it did not generate, and refusing what a real
engine should never send (a chat completion at /responses, a cut stream, an event that is not JSON, a
failed response, silence between events), and to say back what jaju sent it, so that what jaju put in
place of personal data comes back split across events (restoration). The scenario is the model name
in the request body; the empty body of the "auto" probe gets a 404, as from a server without the route.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from tests.sovereignty.misbehaving import GOOD_STREAM, HANG, SSE, chat_json

ANSWER = ["대한민국의 ", "수도는 ", "서울입니다."]
USAGE = {"input_tokens": 21, "output_tokens": 9, "total_tokens": 30}
CALL = {"id": "fc_1", "type": "function_call", "status": "completed", "call_id": "call_w", "name": "get_weather",
        "arguments": "{\"city\": \"서울\"}"}


def message(text: str) -> dict:
    return {"id": "msg_1", "type": "message", "role": "assistant", "status": "completed",
            "content": [{"type": "output_text", "text": text, "annotations": []}]}


def response(output: list, status: str = "completed", **extra) -> dict:
    return {"id": "resp_up", "object": "response", "created_at": 0, "status": status, "model": "m",
            "output": output, "usage": USAGE, **extra}


def event(kind: str, **data) -> bytes:
    body = {"type": kind, **data}
    return f"event: {kind}\ndata: {json.dumps(body, ensure_ascii=False)}\n\n".encode()


def _head(content_type: str, length: int | None = None, status: str = "200 OK") -> bytes:
    head = f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nConnection: close\r\n"
    if length is not None:
        head += f"Content-Length: {length}\r\n"
    return (head + "\r\n").encode()


def _json(data: object, status: str = "200 OK") -> list[bytes]:
    body = json.dumps(data, ensure_ascii=False).encode()
    return [_head("application/json", len(body), status) + body]


STARTED = [event("response.created", response=response([], "in_progress")),
           event("response.in_progress", response=response([], "in_progress"))]
TEXT = [event("response.output_item.added", output_index=0, item={**message(""), "status": "in_progress"}),
        *(event("response.output_text.delta", item_id="msg_1", output_index=0, content_index=0, delta=p)
          for p in ANSWER)]
TEXT_DONE = [event("response.output_item.done", output_index=0, item=message("".join(ANSWER))),
             event("response.completed", response=response([message("".join(ANSWER))]))]
TOOL = [event("response.output_item.added", output_index=0, item={**CALL, "arguments": "", "status": "in_progress"}),
        event("response.function_call_arguments.delta", item_id="fc_1", output_index=0, delta=CALL["arguments"]),
        event("response.output_item.done", output_index=0, item=CALL),
        event("response.completed", response=response([CALL]))]
CRASHED = {"code": "server_error", "message": "model crashed"}
BAD_EVENT = b"data: {\"type\": \"response.output_text.delta\", \n\n"

def echo(request: dict) -> list[bytes]:
    """Says back the last input text it was sent, streamed two characters at a time, and calls a function
    with it as the argument: whatever jaju put in place of personal data comes back, split across deltas."""
    said = request["input"][-1]["content"][0]["text"]
    call = {**CALL, "name": "send_greeting", "arguments": json.dumps({"name": said}, ensure_ascii=False)}
    whole = response([message(said), call])
    if not request.get("stream"):
        return _json(whole)
    pieces = [said[i:i + 2] for i in range(0, len(said), 2)]
    return [_head(SSE), *STARTED, TEXT[0],
            *(event("response.output_text.delta", item_id="msg_1", output_index=0, content_index=0, delta=p)
              for p in pieces),
            event("response.output_item.done", output_index=0, item=message(said)),
            event("response.output_item.added", output_index=1, item={**call, "arguments": ""}),
            event("response.output_item.done", output_index=1, item=call),
            event("response.completed", response=whole)]


SCENARIOS: dict[str, Callable[[dict], list]] = {
    "": lambda _: _json({"error": {"message": "File Not Found"}}, "404 Not Found"),  # the "auto" probe
    "resp-json": lambda _: _json(response([message("".join(ANSWER))])),
    "resp-sse": lambda _: [_head(SSE), *STARTED, *TEXT, *TEXT_DONE],
    "resp-sse-tools": lambda _: [_head(SSE), *STARTED, *TOOL],
    "resp-final-only": lambda _: [_head(SSE), *STARTED, *TEXT_DONE],
    "resp-incomplete": lambda _: _json(response([message("대한민국의")], "incomplete",
                                                incomplete_details={"reason": "max_output_tokens"})),
    "resp-chat-json": lambda _: _json(chat_json()),
    "resp-chat-sse": lambda _: [_head(SSE), *GOOD_STREAM],
    "resp-truncated": lambda _: [_head(SSE), *STARTED, *TEXT],
    "resp-bad-event": lambda _: [_head(SSE), *STARTED, *TEXT[:2], BAD_EVENT],
    "resp-failed": lambda _: [_head(SSE), *STARTED, event("response.failed", response=response(
        [], "failed", error=CRASHED))],
    "resp-failed-json": lambda _: _json(response([], "failed", error=CRASHED)),
    "resp-unknown-item": lambda _: _json(response([{"id": "ws_1", "type": "web_search_call", "status": "completed"}])),
    "resp-hang": lambda _: [_head(SSE), *STARTED, *TEXT[:2], HANG, *TEXT[2:], *TEXT_DONE],
    "resp-hang-first": lambda _: [_head(SSE), HANG, *STARTED, *TEXT, *TEXT_DONE],
    "resp-echo": echo,
}
