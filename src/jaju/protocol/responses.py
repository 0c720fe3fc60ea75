"""POST /v1/responses: the request model, its translation to chat, and the response's wire shapes.

The Responses API runs on the chat path (`ChatCompletionRequest` -> `InferenceService`), so every
safeguard applies unchanged; this module only translates. Items are kept as plain dicts in OpenAI's
shape (what `input_items` returns and `previous_response_id` continues from). jaju's extension is the
`jaju` field, as on chat.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from pydantic import Field, JsonValue, StrictBool, field_validator

from jaju.errors import InvalidRequest
from jaju.protocol.chat import ChatCompletionRequest
from jaju.protocol.common import JajuRequestExtension, WireModel, echo
from jaju.protocol.jsonsafe import BoundedJson, check_embedded_json

MAX_ITEMS = 500


def item_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex}"


class JsonSchemaFormat(WireModel):
    type: Literal["json_schema"]
    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_\-]{1,64}$")]
    schema_: BoundedJson[dict[str, JsonValue]] = Field(alias="schema")
    description: str | None = None
    strict: StrictBool | None = None


class PlainFormat(WireModel):
    type: Literal["text", "json_object"]


class TextConfig(WireModel):
    format: Annotated[JsonSchemaFormat | PlainFormat, Field(discriminator="type")] | None = None


class ResponsesRequest(WireModel):
    """The request body, in OpenAI's field order; unknown fields are ignored as on every route."""

    model: Annotated[str, Field(min_length=1, max_length=200)]
    input: str | Annotated[list[dict[str, JsonValue]], Field(max_length=MAX_ITEMS)]
    background: StrictBool = False
    instructions: str | None = None
    max_output_tokens: int | None = Field(None, ge=1)
    metadata: dict[Annotated[str, Field(max_length=64)], Annotated[str, Field(max_length=512)]] | None = None
    parallel_tool_calls: StrictBool = True
    previous_response_id: Annotated[str, Field(min_length=1, max_length=80)] | None = None
    store: StrictBool = True
    stream: StrictBool = False
    temperature: float = Field(1.0, ge=0.0, le=2.0)
    text: TextConfig | None = None
    tool_choice: Literal["none", "auto", "required"] | dict[str, JsonValue] | None = None
    tools: Annotated[list[dict[str, JsonValue]], Field(max_length=128)] | None = None
    top_p: float = Field(1.0, gt=0.0, le=1.0)
    user: Annotated[str, Field(max_length=256)] | None = None
    jaju: JajuRequestExtension | None = None

    @field_validator("input")
    @classmethod
    def _not_empty(cls, v: str | list) -> str | list:
        if not v:
            raise ValueError("input must be a non-empty string or list of items")
        return v

    # --- translation --------------------------------------------------------------------------
    def input_items(self) -> list[dict[str, Any]]:
        """The input as items in OpenAI's shape, each checked and given an id (what input_items lists)."""
        if isinstance(self.input, str):
            return [_message("user", [{"type": "input_text", "text": self.input}])]
        return [normalize_item(raw, f"input[{i}]") for i, raw in enumerate(self.input)]

    def chat_tools(self) -> list[dict[str, Any]] | None:
        if not self.tools:
            return None
        out = []
        for i, t in enumerate(self.tools):
            kind = t.get("type")
            if kind != "function":
                raise InvalidRequest(f"Tool type {_named(kind)} is not supported here; jaju runs function tools "
                                     "(type 'function') only.", "unsupported_tool_type", f"tools[{i}].type")
            fn = {k: t[k] for k in ("name", "description", "parameters", "strict") if t.get(k) is not None}
            out.append({"type": "function", "function": fn})
        return out

    def chat_tool_choice(self) -> Any:
        choice = self.tool_choice
        if choice is None or isinstance(choice, str):
            return choice
        if choice.get("type") == "function" and isinstance(choice.get("name"), str):
            return {"type": "function", "function": {"name": choice["name"]}}
        raise InvalidRequest(f"tool_choice of type {_named(choice.get('type'))} is not supported; use 'none', "
                             "'auto', 'required' or {\"type\": \"function\", \"name\": ...}.",
                             "unsupported_tool_choice", "tool_choice")

    def chat_format(self) -> dict[str, Any] | None:
        fmt = self.text.format if self.text else None
        if fmt is None or fmt.type == "text":
            return None
        if isinstance(fmt, JsonSchemaFormat):
            schema = {"name": fmt.name, "schema": fmt.schema_}
            if fmt.strict is not None:
                schema["strict"] = fmt.strict
            return {"type": "json_schema", "json_schema": schema}
        return {"type": "json_object"}

    def to_chat(self, history: list[dict[str, Any]], items: list[dict[str, Any]]) -> ChatCompletionRequest:
        """The chat request this Responses request runs as: instructions, earlier turns, then this input."""
        messages: list[dict[str, Any]] = []
        if self.instructions:
            messages.append({"role": "system", "content": self.instructions})
        for item in [*history, *items]:
            _append(messages, item)
        body: dict[str, Any] = {
            "model": self.model, "messages": messages, "temperature": self.temperature, "top_p": self.top_p,
            "max_completion_tokens": self.max_output_tokens, "parallel_tool_calls": self.parallel_tool_calls,
            "tools": self.chat_tools(), "tool_choice": self.chat_tool_choice(),
            "response_format": self.chat_format(), "user": self.user, "store": False,
            "stream": self.stream and not self.background}
        try:
            return ChatCompletionRequest.model_validate({k: v for k, v in body.items() if v is not None})
        except ValueError as e:  # pydantic's message names the chat field; say it in Responses terms
            raise InvalidRequest(f"The request cannot run as a chat: {_first_error(e)}", "invalid_input",
                                 "input") from None

    def echo_fields(self) -> dict[str, Any]:
        """The request settings a Response object repeats back (and a stored response keeps)."""
        fmt = self.text.format.model_dump(by_alias=True, exclude_none=True) if self.text and self.text.format \
            else {"type": "text"}
        return {"instructions": self.instructions, "max_output_tokens": self.max_output_tokens,
                "metadata": self.metadata or {}, "parallel_tool_calls": self.parallel_tool_calls,
                "previous_response_id": self.previous_response_id, "temperature": self.temperature,
                "text": {"format": fmt}, "tool_choice": self.tool_choice or "auto", "tools": self.tools or [],
                "top_p": self.top_p, "store": self.store, "background": self.background, "user": self.user}


# --- items ------------------------------------------------------------------------------------
_ROLES = ("user", "system", "developer", "assistant")
_PART_TYPES = ("input_text", "output_text")


def _message(role: str, content: list[dict[str, Any]], mid: str | None = None) -> dict[str, Any]:
    return {"id": mid or item_id("msg"), "type": "message", "role": role, "status": "completed", "content": content}


def _named(value: Any) -> str:
    return f"'{echo(value)}'" if isinstance(value, str) else "(missing)"


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise InvalidRequest(f"{where} must be a string.", "invalid_input", where)
    return value


def normalize_item(raw: dict[str, Any], where: str) -> dict[str, Any]:
    """One input item checked and put in OpenAI's item shape; a malformed item is a 400 naming its path."""
    kind = raw.get("type", "message" if "role" in raw else None)
    rid = raw.get("id") if isinstance(raw.get("id"), str) else None
    if kind == "message":
        role = raw.get("role")
        if role not in _ROLES:
            raise InvalidRequest(f"{where}.role must be one of {', '.join(_ROLES)}.", "invalid_input", f"{where}.role")
        content = raw.get("content")
        if isinstance(content, str):
            parts = [{"type": "output_text" if role == "assistant" else "input_text", "text": content}]
        elif isinstance(content, list) and content:
            parts = []
            for j, p in enumerate(content):
                ptype = p.get("type") if isinstance(p, dict) else None
                if ptype not in _PART_TYPES:
                    raise InvalidRequest(f"Content part type {_named(ptype)} is not supported here; use "
                                         "input_text or output_text.", "unsupported_content_type",
                                         f"{where}.content[{j}].type")
                part = {"type": ptype, "text": _text(p.get("text"), f"{where}.content[{j}].text")}
                if ptype == "output_text":
                    part["annotations"] = []
                parts.append(part)
        else:
            raise InvalidRequest(f"{where}.content must be a string or a non-empty list of parts.", "invalid_input",
                                 f"{where}.content")
        return _message(role, parts, rid)
    if kind == "function_call":
        arguments = _text(raw.get("arguments"), f"{where}.arguments")
        try:
            check_embedded_json(arguments)
        except ValueError as e:
            raise InvalidRequest(f"{where}.arguments: {e}", "invalid_input", f"{where}.arguments") from None
        return {"id": rid or item_id("fc"), "type": "function_call", "status": "completed",
                "call_id": _text(raw.get("call_id"), f"{where}.call_id"),
                "name": _text(raw.get("name"), f"{where}.name"), "arguments": arguments}
    if kind == "function_call_output":
        output = raw.get("output")
        if isinstance(output, list):  # a list of input_text parts
            output = "".join(_text(p.get("text") if isinstance(p, dict) else None, f"{where}.output[{j}].text")
                             for j, p in enumerate(output))
        return {"id": rid or item_id("fco"), "type": "function_call_output", "status": "completed",
                "call_id": _text(raw.get("call_id"), f"{where}.call_id"), "output": _text(output, f"{where}.output")}
    raise InvalidRequest(f"Input item type {_named(kind)} is not supported here; use message, function_call or "
                         "function_call_output.", "unsupported_item_type", f"{where}.type")


def _append(messages: list[dict[str, Any]], item: dict[str, Any]) -> None:
    """Add one item to a chat transcript; consecutive function calls join one assistant message."""
    kind = item["type"]
    if kind == "message":
        text = "".join(p["text"] for p in item["content"])
        messages.append({"role": item["role"], "content": text})
    elif kind == "function_call":
        call = {"id": item["call_id"], "type": "function",
                "function": {"name": item["name"], "arguments": item["arguments"]}}
        last = messages[-1] if messages else None
        if last is not None and last["role"] == "assistant":
            last.setdefault("tool_calls", []).append(call)
            last["content"] = last.get("content") or None
        else:
            messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
    else:  # function_call_output
        messages.append({"role": "tool", "tool_call_id": item["call_id"], "content": item["output"]})


def _first_error(e: ValueError) -> str:
    errors = getattr(e, "errors", None)
    if callable(errors):
        first = errors()[0]
        return f"{'.'.join(str(x) for x in first['loc'])}: {first['msg']}"
    return str(e)


# --- output -------------------------------------------------------------------------------------
def text_item(text: str, mid: str | None = None, status: str = "completed") -> dict[str, Any]:
    return _message("assistant", [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}], mid) \
        | {"status": status}


def call_item(call_id: str, name: str, arguments: str, fid: str | None = None,
              status: str = "completed") -> dict[str, Any]:
    return {"id": fid or item_id("fc"), "type": "function_call", "status": status, "call_id": call_id,
            "name": name, "arguments": arguments}


def usage(input_tokens: int, output_tokens: int) -> dict[str, Any]:
    return {"input_tokens": input_tokens, "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
            "output_tokens": output_tokens, "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": input_tokens + output_tokens}


def response_body(rid: str, created_at: int, status: str, model: str, fields: dict[str, Any],
                  output: list[dict[str, Any]], usage_: dict[str, Any] | None = None,
                  error: dict[str, Any] | None = None, incomplete: dict[str, Any] | None = None,
                  jaju: dict[str, Any] | None = None) -> dict[str, Any]:
    """A Response object in OpenAI's field order; `fields` are the request's echoed settings."""
    body = {"id": rid, "object": "response", "created_at": created_at, "status": status,
            "background": fields.get("background", False), "error": error, "incomplete_details": incomplete,
            "instructions": fields.get("instructions"), "max_output_tokens": fields.get("max_output_tokens"),
            "model": model, "output": output, "parallel_tool_calls": fields.get("parallel_tool_calls", True),
            "previous_response_id": fields.get("previous_response_id"), "store": fields.get("store", True),
            "temperature": fields.get("temperature"), "text": fields.get("text", {"format": {"type": "text"}}),
            "tool_choice": fields.get("tool_choice", "auto"), "tools": fields.get("tools", []),
            "top_p": fields.get("top_p"), "truncation": "disabled", "usage": usage_,
            "user": fields.get("user"), "metadata": fields.get("metadata") or {}}
    if jaju:
        body["jaju"] = jaju
    return body
