"""Reading an OpenAI-compatible server's reply (JSON or SSE) into Deltas, and refusing anything else.

Upstreams do not always do what they were asked: some ignore `stream` and answer with one JSON body,
some stream when asked not to, some put an HTML error page behind a 200, some stop mid-stream. Whatever
comes back is either turned into the same Deltas a well-behaved server would give, or into an
`InvalidReply` (502). Never an empty success.
"""

from __future__ import annotations

import re
from typing import Any

from jaju.engine.base import Delta, TokenLogprob, ToolCall, TopLogprob, Usage
from jaju.errors import UpstreamFailed, UpstreamTimeout
from jaju.protocol import jsonsafe

MAX_REPLY_CHARS = 64 * 1024 * 1024  # bounded like every JSON jaju parses outside pydantic

_SNIPPET = 60
_LONG_NUMBER = re.compile(r"\d{4,}")


class InvalidReply(UpstreamFailed):
    """The backend answered, but not with an OpenAI-shaped reply (HTML, garbage, a cut-off stream): 502."""

    def __init__(self, backend: str, problem: str, raw: bytes | str | None = None):
        shown = snippet(raw) if raw is not None else ""
        message = f"Backend {backend} sent an invalid response: {problem}."
        if shown:
            message += f" It began: '{shown}'."
        super().__init__(message)
        self.backend = backend
        self.problem = problem


class SilentBackend(UpstreamTimeout):
    """The backend stopped sending for longer than its read timeout: 504."""

    def __init__(self, backend: str, seconds: float):
        super().__init__(f"Backend {backend} sent nothing for {seconds:g} s (its read timeout); the request was "
                         "abandoned.")
        self.backend = backend


def snippet(raw: bytes | str) -> str:
    """The start of a body, enough to recognise an error page, never personal data.

    Printable ASCII only (Korean text, and with it names and prompt echo, becomes '?') and runs of four
    or more digits masked (identifiers, phone and card numbers); "502 Bad Gateway" stays readable.
    """
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    text = " ".join(text[:_SNIPPET * 4].split())
    text = _LONG_NUMBER.sub(lambda m: "#" * len(m.group()), text)
    return "".join(c if " " <= c <= "~" else "?" for c in text)[:_SNIPPET]


def _usage(data: Any) -> Usage | None:
    if not isinstance(data, dict):
        return None
    return Usage(int(data.get("prompt_tokens") or 0), int(data.get("completion_tokens") or 0))


def error_text(data: dict[str, Any]) -> str:
    """The message of an OpenAI-shaped `error` member (an object with `message`, or a bare value)."""
    err = data.get("error")
    return str(err.get("message") if isinstance(err, dict) else err)


class ToolCallAccumulator:
    """OpenAI streams a tool call as pieces keyed by index; join them into whole ToolCalls."""

    def __init__(self) -> None:
        self._calls: dict[int, dict[str, str]] = {}

    def add(self, pieces: list[dict[str, Any]]) -> None:
        for piece in pieces:
            call = self._calls.setdefault(int(piece.get("index", len(self._calls))),
                                          {"id": "", "name": "", "arguments": ""})
            call["id"] = piece.get("id") or call["id"]
            fn = piece.get("function") or {}
            call["name"] += fn.get("name") or ""
            call["arguments"] += fn.get("arguments") or ""

    def take(self) -> list[ToolCall] | None:
        if not self._calls:
            return None
        calls = [ToolCall(c["id"] or f"call_{i}", c["name"], c["arguments"] or "{}")
                 for i, c in sorted(self._calls.items())]
        self._calls.clear()
        return calls


def whole(data: Any, chat: bool, backend: str) -> list[Delta]:
    """A complete `chat.completion` / `text_completion` object: one Delta per choice, in index order; the
    last carries the usage (the Delta contract for n choices)."""
    if not isinstance(data, dict):
        raise InvalidReply(backend, f"a JSON {type(data).__name__} instead of a completion object")
    if data.get("error") and not data.get("choices"):
        raise InvalidReply(backend, "an error object with a success status", error_text(data))
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices or not all(isinstance(c, dict) for c in choices):
        raise InvalidReply(backend, "a JSON object without choices")
    deltas = [_choice(c, chat, backend, i) for i, c in enumerate(choices)]
    deltas.sort(key=lambda d: d.index)
    deltas[-1].usage = _usage(data.get("usage"))
    return deltas


def _choice(choice: dict[str, Any], chat: bool, backend: str, position: int) -> Delta:
    index = choice.get("index") if isinstance(choice.get("index"), int) else position
    logprobs = _logprobs(choice.get("logprobs"), chat)
    if not chat:
        if not isinstance(choice.get("text"), str):
            raise InvalidReply(backend, "a completion choice without text")
        return Delta(text=choice["text"], finish_reason=choice.get("finish_reason") or "stop", index=index,
                     logprobs=logprobs)
    message = choice.get("message")
    if not isinstance(message, dict):
        raise InvalidReply(backend, "a chat choice without a message")
    try:
        calls = [ToolCall(c.get("id") or f"call_{i}", c["function"]["name"], c["function"].get("arguments") or "{}")
                 for i, c in enumerate(message.get("tool_calls") or [])] or None
    except (KeyError, TypeError, AttributeError):
        raise InvalidReply(backend, "a malformed tool call") from None
    return Delta(text=message.get("content") or "", tool_calls=calls, index=index, logprobs=logprobs,
                 finish_reason="tool_calls" if calls else (choice.get("finish_reason") or "stop"))


def _logprobs(data: Any, chat: bool) -> list[TokenLogprob] | None:
    """A remote engine's logprobs in jaju's form (chat's `content` list, or the legacy parallel lists)."""
    if not isinstance(data, dict):
        return None
    try:
        if chat:
            return [TokenLogprob(t["token"], list(t.get("bytes") or t["token"].encode("utf-8")), float(t["logprob"]),
                                 [TopLogprob(a["token"], list(a.get("bytes") or a["token"].encode("utf-8")),
                                             float(a["logprob"])) for a in t.get("top_logprobs") or []])
                    for t in data.get("content") or []] or None
        tops = data.get("top_logprobs") or [None] * len(data.get("tokens") or [])
        return [TokenLogprob(tok, list(tok.encode("utf-8")), float(lp),
                             [TopLogprob(k, list(k.encode("utf-8")), float(v)) for k, v in (top or {}).items()])
                for tok, lp, top in zip(data["tokens"], data["token_logprobs"], tops)] or None
    except (KeyError, TypeError, ValueError, AttributeError):
        return None  # logprobs are extra information: a reply without readable ones is still a reply


class SseReader:
    """Turns the lines of an OpenAI event stream into Deltas and knows whether the stream ended properly."""

    def __init__(self, backend: str, chat: bool):
        self.backend = backend
        self.chat = chat
        self.done = False  # saw `data: [DONE]`
        self._tools = ToolCallAccumulator()
        self._finish: str | None = None
        self._usage: Usage | None = None
        self._chunks = 0  # chunks that carried choices

    def feed(self, line: str) -> Delta | None:
        """One line of the body; returns a text Delta when the line carried text."""
        if not line.startswith("data:") or self.done:
            return None  # blank lines, `event:`, `id:` and `:` comments carry nothing for us
        payload = line[5:].strip()
        if payload == "[DONE]":
            self.done = True
            return None
        try:
            chunk = jsonsafe.loads(payload, max_chars=MAX_REPLY_CHARS)
        except ValueError:  # not JSON, too deep or too large (JsonRejected is a ValueError)
            raise InvalidReply(self.backend, "a stream chunk that is not valid JSON", payload) from None
        if not isinstance(chunk, dict):
            raise InvalidReply(self.backend, "a stream chunk that is not a JSON object", payload)
        if chunk.get("error"):
            raise InvalidReply(self.backend, "an error in the middle of the stream", error_text(chunk))
        self._usage = _usage(chunk.get("usage")) or self._usage
        choices = chunk.get("choices")
        if choices is None:
            return None  # the usage-only chunk
        if not isinstance(choices, list):
            raise InvalidReply(self.backend, "a stream chunk whose choices are not a list", payload)
        text = ""
        for choice in choices:
            if not isinstance(choice, dict):
                raise InvalidReply(self.backend, "a stream choice that is not an object", payload)
            delta = (choice.get("delta") or {}) if self.chat else {"content": choice.get("text")}
            if delta.get("tool_calls"):
                self._tools.add(delta["tool_calls"])
            self._finish = choice.get("finish_reason") or self._finish
            text += delta.get("content") or ""
        self._chunks += 1
        return Delta(text=text) if text else None

    def close(self) -> Delta:
        """The closing Delta (tool calls, finish reason, usage); a stream cut short is an InvalidReply."""
        if not self.done and self._finish is None:
            raise InvalidReply(self.backend, "the stream ended before the reply was complete (no finish_reason "
                                              "and no [DONE])")
        if not self._chunks:
            raise InvalidReply(self.backend, "an event stream without a single completion chunk")
        calls = self._tools.take()
        return Delta(tool_calls=calls, finish_reason="tool_calls" if calls else (self._finish or "stop"),
                     usage=self._usage)


def parse_body(raw: bytes, content_type: str, chat: bool, backend: str) -> list[Delta]:
    """A whole body, whatever the server chose to send: JSON, an event stream, or a 502."""
    return read_whole_body(raw, content_type, backend, SseReader(backend, chat),
                           lambda data: whole(data, chat, backend))


def read_whole_body(raw: bytes, content_type: str, backend: str, reader, parse_json) -> list[Delta]:
    """Any whole reply body: an event stream goes through `reader` (`feed` per line, then `close`), JSON
    through `parse_json`; an empty, unreadable or otherwise typed body is a 502 (chat and Responses alike)."""
    text = raw.decode("utf-8", "replace").lstrip("\ufeff")
    start = text.lstrip()[:1]
    if not start:
        raise InvalidReply(backend, "an empty body")
    if "event-stream" in content_type or text.lstrip().startswith(("data:", ":", "event:")):
        deltas = [d for d in (reader.feed(line) for line in text.splitlines()) if d is not None]
        return [*deltas, reader.close()]
    if "json" in content_type or start in "{[":
        try:
            data = jsonsafe.loads(text, max_chars=MAX_REPLY_CHARS)
        except ValueError:
            raise InvalidReply(backend, "a body that is not valid JSON", raw) from None
        return parse_json(data)
    kind = content_type.split(";")[0].strip() or "untyped"
    raise InvalidReply(backend, f"a {kind} body instead of JSON or an event stream", raw)
