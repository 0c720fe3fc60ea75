"""Speaking the Responses API to a remote engine that serves `/v1/responses` itself (vLLM, llama-server).

The request is built from the `ChatRequest` the safeguards have already prepared, so the engine sees
exactly what chat would have shown it (PII replaced, grounding added), only in Responses form: a leading
system message becomes `instructions`, messages, tool calls and tool results become input items, and
`store` is always false (jaju keeps the conversation in the tenant's own store; the engine keeps nothing).

The reply, one JSON Response or a stream of typed events, is read into the same Deltas a chat reply
gives, so restoration, labels, storage and audit run unchanged. Anything else (a chat completion, a cut
stream, an event that is not JSON, a failed response) is an `InvalidReply` (502), never an empty success.
"""

from __future__ import annotations

from typing import Any

from jaju.engine.base import ChatRequest, Delta, ToolCall, Usage
from jaju.engine.openai_reply import MAX_REPLY_CHARS, InvalidReply, error_text, read_whole_body
from jaju.protocol import jsonsafe

# Output items jaju can show after its safeguards: text and function calls. Reasoning is the engine's
# scratch work and is not shown (as on the chat path); any other item jaju never asked for.
_SKIPPED = ("reasoning",)
_FINISH = {"max_output_tokens": "length", "content_filter": "content_filter"}


# --- the request ---------------------------------------------------------------------------------
def request_body(request: ChatRequest, remote_model: str) -> dict[str, Any]:
    """The Responses request for a prepared chat request (only what the client could have set)."""
    messages = list(request.messages)
    instructions = None
    if messages and messages[0].get("role") == "system":
        instructions = _text(messages.pop(0).get("content"))
    body: dict[str, Any] = {"model": remote_model, "input": [i for m in messages for i in _items(m)]}
    if instructions is not None:
        body["instructions"] = instructions
    s = request.sampling
    if s.max_tokens is not None:
        body["max_output_tokens"] = s.max_tokens
    if request.tools:
        body["parallel_tool_calls"] = request.parallel_tool_calls
    body["store"] = False
    if s.temperature is not None:
        body["temperature"] = s.temperature
    if request.response_format is not None:
        body["text"] = {"format": _format(request.response_format)}
    if request.tools:
        body["tools"] = [_tool(t) for t in request.tools]
        if request.tool_choice is not None:
            body["tool_choice"] = _tool_choice(request.tool_choice)
    if s.top_p is not None:
        body["top_p"] = s.top_p
    return body


def _text(content: Any) -> str:
    if isinstance(content, list):  # chat content parts
        return "".join(p.get("text") or "" for p in content if isinstance(p, dict))
    return content or ""


def _items(m: dict[str, Any]) -> list[dict[str, Any]]:
    role = m.get("role")
    if role == "tool":
        return [{"type": "function_call_output", "call_id": m.get("tool_call_id") or "",
                 "output": _text(m.get("content"))}]
    text = _text(m.get("content"))
    items: list[dict[str, Any]] = []
    if role == "assistant":
        if text or not m.get("tool_calls"):
            items.append({"type": "message", "role": "assistant",
                          "content": [{"type": "output_text", "text": text, "annotations": []}]})
        for c in m.get("tool_calls") or []:
            fn = c.get("function") or {}
            items.append({"type": "function_call", "call_id": c.get("id") or "", "name": fn.get("name") or "",
                          "arguments": fn.get("arguments") or "{}"})
        return items
    return [{"type": "message", "role": role, "content": [{"type": "input_text", "text": text}]}]


def _tool(t: dict[str, Any]) -> dict[str, Any]:
    fn = t.get("function") or {}
    return {"type": "function", **{k: fn[k] for k in ("name", "description", "parameters", "strict") if k in fn}}


def _tool_choice(choice: Any) -> Any:
    if isinstance(choice, dict):
        return {"type": "function", "name": (choice.get("function") or {}).get("name")}
    return choice


def _format(response_format: dict[str, Any]) -> dict[str, Any]:
    if response_format.get("type") == "json_schema":
        return {"type": "json_schema", **response_format.get("json_schema", {})}
    return {"type": response_format.get("type", "text")}


# --- the reply -----------------------------------------------------------------------------------
def _usage(data: Any) -> Usage | None:
    if not isinstance(data, dict):
        return None
    return Usage(int(data.get("input_tokens") or 0), int(data.get("output_tokens") or 0))


class _Output:
    """The text and function calls of a Response's `output` list, checked item by item."""

    def __init__(self, backend: str):
        self.backend = backend
        self.text = ""
        self.calls: list[ToolCall] = []

    def add(self, item: Any) -> None:
        if not isinstance(item, dict):
            raise InvalidReply(self.backend, "an output item that is not an object")
        kind = item.get("type")
        if kind == "message":
            for part in item.get("content") or []:
                if not isinstance(part, dict):
                    raise InvalidReply(self.backend, "a message part that is not an object")
                value = part.get("text") if part.get("type") == "output_text" else part.get("refusal")
                self.text += value if isinstance(value, str) else ""
        elif kind == "function_call":
            name, arguments = item.get("name"), item.get("arguments")
            if not isinstance(name, str) or not isinstance(arguments, str):
                raise InvalidReply(self.backend, "a malformed function call")
            call_id = item.get("call_id") or item.get("id") or f"call_{len(self.calls)}"
            self.calls.append(ToolCall(str(call_id), name, arguments or "{}"))
        elif kind not in _SKIPPED:
            raise InvalidReply(self.backend, f"an output item of a type jaju did not ask for ({_kind(kind)})")


def _kind(value: Any) -> str:
    return "".join(c for c in str(value)[:40] if c.isalnum() or c in "._-") or "none"


def _finish(response: dict[str, Any], calls: list[ToolCall], backend: str) -> str:
    status = response.get("status") or "completed"
    if status == "failed":
        raise InvalidReply(backend, "a failed response", error_text(response) if response.get("error") else None)
    if status == "incomplete":
        reason = (response.get("incomplete_details") or {}).get("reason")
        return _FINISH.get(reason, "length")
    if status != "completed":
        raise InvalidReply(backend, f"a response that has not finished (status {_kind(status)})")
    return "tool_calls" if calls else "stop"


def whole(data: Any, backend: str) -> list[Delta]:
    """A complete Response object as one closing Delta (text, function calls, finish reason, usage)."""
    if not isinstance(data, dict):
        raise InvalidReply(backend, f"a JSON {type(data).__name__} instead of a Response object")
    if data.get("error") and data.get("object") != "response":
        raise InvalidReply(backend, "an error object with a success status", error_text(data))
    if not isinstance(data.get("output"), list) or data.get("object", "response") != "response":
        found = _kind(data.get("object")) if data.get("object") else "JSON object"
        raise InvalidReply(backend, f"a {found} that is not a Response (no output list)")
    out = _Output(backend)
    for item in data["output"]:
        out.add(item)
    finish = _finish(data, out.calls, backend)
    return [Delta(text=out.text, tool_calls=out.calls or None, finish_reason=finish, usage=_usage(data.get("usage")))]


class EventReader:
    """Turns the lines of a Responses event stream into Deltas and knows whether it ended properly.

    Text comes from `response.output_text.delta`; function calls from `response.output_item.done`
    (or, for a server that sends none, from the final response); the end is `response.completed` or
    `response.incomplete`. A stream without one of those was cut short.
    """

    def __init__(self, backend: str):
        self.backend = backend
        self.done = False
        self._streamed = ""  # text released as deltas
        self._calls = _Output(backend)
        self._final: dict[str, Any] | None = None

    def feed(self, line: str) -> Delta | None:
        if not line.startswith("data:") or self.done:
            return None  # `event:` repeats the type that `data` carries; blank lines and comments carry nothing
        payload = line[5:].strip()
        if payload == "[DONE]":
            return None  # not part of the Responses protocol; only a terminal event ends the reply
        try:
            event = jsonsafe.loads(payload, max_chars=MAX_REPLY_CHARS)
        except ValueError:  # not JSON, too deep or too large
            raise InvalidReply(self.backend, "a stream event that is not valid JSON", payload) from None
        if not isinstance(event, dict):
            raise InvalidReply(self.backend, "a stream event that is not a JSON object", payload)
        kind = event.get("type")
        if kind == "error" or kind == "response.failed":
            response = event.get("response") if isinstance(event.get("response"), dict) else event
            raise InvalidReply(self.backend, "an error in the middle of the stream",
                               error_text(response) if response.get("error") else str(event.get("message") or ""))
        if not isinstance(kind, str) or not kind.startswith("response."):
            raise InvalidReply(self.backend, "a stream event that is not a Responses event", payload)
        if kind in ("response.output_text.delta", "response.refusal.delta"):
            text = event.get("delta")
            if not isinstance(text, str):
                raise InvalidReply(self.backend, "a text delta without text")
            self._streamed += text
            return Delta(text=text) if text else None
        if kind == "response.output_item.done" and isinstance(event.get("item"), dict) \
                and event["item"].get("type") == "function_call":
            self._calls.add(event["item"])
        elif kind in ("response.completed", "response.incomplete"):
            if not isinstance(event.get("response"), dict):
                raise InvalidReply(self.backend, f"a {kind} event without its response")
            self._final = event["response"]
            self.done = True
        return None

    def close(self) -> Delta:
        """The closing Delta; a stream that never reached its terminal event is an InvalidReply."""
        if self._final is None:
            raise InvalidReply(self.backend, "the stream ended before the reply was complete (no "
                                             "response.completed)")
        final = _Output(self.backend)
        for item in self._final.get("output") or []:
            final.add(item)
        calls = self._calls.calls or final.calls
        # A server that streamed no text deltas still said everything in its final response.
        text = "" if self._streamed else final.text
        return Delta(text=text, tool_calls=calls or None, finish_reason=_finish(self._final, calls, self.backend),
                     usage=_usage(self._final.get("usage")))


def parse_body(raw: bytes, content_type: str, backend: str) -> list[Delta]:
    """A whole reply to a Responses request, as JSON or as an event stream; anything else is a 502."""
    return read_whole_body(raw, content_type, backend, EventReader(backend), lambda data: whole(data, backend))
