"""The typed server-sent events of a streamed response, written from the chat generation's deltas.

Text streams as `response.output_text.delta` events as the safeguards release it (output scanned,
placeholders restored). Function calls come whole from the engine, so each is one arguments delta.
`response.completed` (with the signed `jaju` label) is released only after the response is kept and
its audit record is durable; a failure ends the stream with `error` and `response.failed`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from jaju.errors import ServiceError
from jaju.inference import Generation
from jaju.protocol import responses as wire
from jaju.responses.run import Run


class EventWriter:
    """Numbers events in order and writes each as `event:` and `data:` lines."""

    def __init__(self) -> None:
        self.sequence = 0

    def __call__(self, kind: str, **data: Any) -> bytes:
        payload = {"type": kind, "sequence_number": self.sequence, **data}
        self.sequence += 1
        text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        return f"event: {kind}\ndata: {text}\n\n".encode()


async def events(run: Run, gen: Generation, settle: Callable[[Run, Generation, str | None], Awaitable[dict[str, Any]]],
                 finish: Callable[[Generation, int | str], Awaitable[None]]) -> AsyncIterator[bytes]:
    ev = EventWriter()
    yield ev("response.created", response=run.body("in_progress", output=[]))
    yield ev("response.in_progress", response=run.body("in_progress", output=[]))
    status: int | str = "client_disconnected"
    message_id = None
    try:
        async for d in gen.deltas():
            if not d.text:
                continue
            if message_id is None:
                message_id = wire.item_id("msg")
                for chunk in _open_message(ev, message_id):
                    yield chunk
            yield ev("response.output_text.delta", item_id=message_id, output_index=0, content_index=0,
                     delta=d.text, logprobs=[])
        out = gen.outcome(0)
        if message_id is None and not out.tool_calls:  # an empty reply is still one (empty) message
            message_id = wire.item_id("msg")
            for chunk in _open_message(ev, message_id):
                yield chunk
        body = await settle(run, gen, message_id)  # kept, metered and durably audited before the end is released
        for index, item in enumerate(body["output"]):
            if item["type"] == "message":
                for chunk in _close_message(ev, item, index):
                    yield chunk
            else:
                yield ev("response.output_item.added", output_index=index,
                         item={**item, "arguments": "", "status": "in_progress"})
                yield ev("response.function_call_arguments.delta", item_id=item["id"], output_index=index,
                         delta=item["arguments"])
                yield ev("response.function_call_arguments.done", item_id=item["id"], output_index=index,
                         name=item["name"], arguments=item["arguments"])
                yield ev("response.output_item.done", output_index=index, item=item)
        kind = "response.completed" if body["status"] == "completed" else "response." + body["status"]
        yield ev(kind, response=body)
        status = 200
    except ServiceError as e:
        status = e.status
        yield ev("error", code=e.code, message=e.message, param=e.param)
        yield ev("response.failed", response=run.body("failed", output=[], error={
            "code": "server_error" if e.status >= 500 else "invalid_prompt", "message": e.message}))
    finally:
        if status != 200:
            await finish(gen, status)


def _open_message(ev: EventWriter, message_id: str) -> list[bytes]:
    item = wire.text_item("", message_id, status="in_progress")
    item["content"] = []
    return [ev("response.output_item.added", output_index=0, item=item),
            ev("response.content_part.added", item_id=message_id, output_index=0, content_index=0,
               part={"type": "output_text", "text": "", "annotations": [], "logprobs": []})]


def _close_message(ev: EventWriter, item: dict[str, Any], index: int) -> list[bytes]:
    part = item["content"][0]
    return [ev("response.output_text.done", item_id=item["id"], output_index=index, content_index=0,
               text=part["text"], logprobs=[]),
            ev("response.content_part.done", item_id=item["id"], output_index=index, content_index=0, part=part),
            ev("response.output_item.done", output_index=index, item=item)]
