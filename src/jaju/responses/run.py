"""Run: one Responses request on its way, and what a finished generation turns into."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from jaju.context import RequestContext
from jaju.inference import Generation
from jaju.protocol import responses as wire
from jaju.protocol.chat import ChatCompletionRequest
from jaju.protocol.responses import ResponsesRequest


@dataclass
class Run:
    """One Responses request on its way: its id, echoed settings, conversation so far and chat form."""

    ctx: RequestContext
    req: ResponsesRequest
    id: str
    created_at: int
    fields: dict[str, Any]
    history: list[dict[str, Any]]
    items: list[dict[str, Any]]
    chat: ChatCompletionRequest
    output: list[dict[str, Any]] = field(default_factory=list)

    def body(self, status: str, output: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
        return wire.response_body(self.id, self.created_at, status, self.req.model, self.fields,
                                  self.output if output is None else output, **extra)


def result(gen: Generation, message_id: str | None = None) -> tuple[str, list[dict[str, Any]], dict[str, Any] | None]:
    """Status, output items and incomplete_details from a finished generation's first choice."""
    out = gen.outcome(0)
    items = [wire.text_item(out.text, message_id)] if out.text or not out.tool_calls else []
    items += [wire.call_item(c.id, c.name, c.arguments) for c in out.tool_calls]
    if out.finish == "length":
        return "incomplete", items, {"reason": "max_output_tokens"}
    if out.finish == "content_filter":
        return "incomplete", items, {"reason": "content_filter"}
    return "completed", items, None
