"""Chat templates from the GGUF, tool-call parsing and grammars for forced tool calls and JSON output."""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime
from typing import Any

from jinja2 import TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from llama_cpp.llama_grammar import JSON_GBNF, json_schema_to_gbnf

from jaju.engine.base import ToolCall
from jaju.errors import ApiError, ModelError

_TOOL_CALL = re.compile(r"<tool_call>\s*(.*?)\s*(?:</tool_call>|$)", re.S)


def _raise(message: str) -> None:
    raise TemplateError(message)


class ChatTemplate:
    """Renders OpenAI-style messages with the Jinja chat template the model file carries."""

    def __init__(self, source: str, bos_token: str = "", eos_token: str = ""):
        env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
        env.globals["raise_exception"] = _raise
        env.globals["strftime_now"] = lambda fmt: datetime.now().strftime(fmt)
        try:
            self._template = env.from_string(source)
        except TemplateError as e:
            raise ModelError(f"The model's chat template does not parse: {e}") from None
        self.bos_token = bos_token
        self.eos_token = eos_token
        self.supports_tools = "tools" in source

    def render(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None) -> str:
        try:
            return self._template.render(messages=[_normalise(m) for m in messages], tools=tools or None,
                                         add_generation_prompt=True, bos_token=self.bos_token,
                                         eos_token=self.eos_token)
        except TemplateError as e:
            raise ApiError(400, f"The messages do not fit this model's chat template: {e}",
                           code="invalid_messages") from None


def _normalise(message: dict[str, Any]) -> dict[str, Any]:
    """Templates expect string content and JSON-decoded tool arguments."""
    m = dict(message)
    content = m.get("content")
    if isinstance(content, list):
        m["content"] = "".join(p.get("text", "") for p in content if p.get("type") == "text")
    elif content is None:
        m["content"] = ""
    if m.get("tool_calls"):
        calls = []
        for call in m["tool_calls"]:
            fn = dict(call.get("function", {}))
            args = fn.get("arguments")
            if isinstance(args, str):
                try:
                    fn["arguments"] = json.loads(args) if args.strip() else {}
                except json.JSONDecodeError:
                    fn["arguments"] = args
            calls.append({**call, "function": fn})
        m["tool_calls"] = calls
    return m


def parse_tool_calls(tool_text: str) -> list[ToolCall]:
    """Tool calls from `<tool_call>{"name": ..., "arguments": {...}}</tool_call>` blocks."""
    calls = []
    for body in _TOOL_CALL.findall(tool_text):
        try:
            obj = json.loads(body)
        except json.JSONDecodeError:
            continue
        if not isinstance(obj, dict) or not isinstance(obj.get("name"), str):
            continue
        args = obj.get("arguments", {})
        arguments = args if isinstance(args, str) else json.dumps(args, ensure_ascii=False)
        calls.append(ToolCall(id=f"call_{uuid.uuid4().hex[:24]}", name=obj["name"], arguments=arguments))
    return calls


_FENCED = re.compile(r"^\s*(?:```(?:json)?\s*)?(\{.*\})\s*(?:```)?\s*$", re.S)


def parse_bare_tool_call(text: str, tool_names: set[str]) -> list[ToolCall]:
    """Small models often answer a tool request with a bare (or fenced) JSON call instead of the markup.

    Accept it only when the whole reply is one JSON object naming a tool the request offered.
    """
    match = _FENCED.match(text)
    if not match:
        return []
    calls = parse_tool_calls(f"<tool_call>{match.group(1)}</tool_call>")
    return calls if len(calls) == 1 and calls[0].name in tool_names else []


def _rename_root(gbnf: str, new: str) -> str:
    return re.sub(r"^root(\s*::=)", new + r"\1", gbnf, count=1, flags=re.M)


def tool_call_grammar(tools: list[dict[str, Any]], name: str | None) -> str:
    """A grammar that forces one tool call (to `name`, or to any of the tools)."""
    choices = []
    for tool in tools:
        fn = tool.get("function", {})
        if name is not None and fn.get("name") != name:
            continue
        choices.append({"type": "object",
                        "properties": {"name": {"const": fn.get("name")},
                                       "arguments": fn.get("parameters") or {"type": "object"}},
                        "required": ["name", "arguments"]})
    if not choices:
        raise ApiError(400, f"tool_choice names function {name!r}, which is not in tools.", param="tool_choice")
    schema = choices[0] if len(choices) == 1 else {"oneOf": choices}
    body = _rename_root(json_schema_to_gbnf(json.dumps(schema)), "call")
    return 'root ::= "<tool_call>\\n" call "\\n</tool_call>"\n' + body


def response_format_grammar(response_format: dict[str, Any] | None) -> str | None:
    """GBNF for response_format json_object / json_schema; None for text."""
    if not response_format or response_format.get("type") in (None, "text"):
        return None
    kind = response_format.get("type")
    if kind == "json_object":
        return JSON_GBNF
    if kind == "json_schema":
        spec = response_format.get("json_schema") or {}
        schema = spec.get("schema")
        if not isinstance(schema, dict):
            raise ApiError(400, "response_format.json_schema.schema must be a JSON Schema object.",
                           param="response_format")
        try:
            return json_schema_to_gbnf(json.dumps(schema))
        except (ValueError, KeyError, TypeError, NotImplementedError) as e:
            raise ApiError(400, f"This JSON Schema cannot be enforced: {e}", param="response_format") from None
    raise ApiError(400, f"response_format type {kind!r} is not supported; use text, json_object or json_schema.",
                   param="response_format")
