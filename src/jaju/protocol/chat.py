"""POST /v1/chat/completions: request model and response builders."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Protocol

from pydantic import ConfigDict, Field, JsonValue, StrictBool, field_validator, model_validator

from jaju.engine.base import ChatRequest, Delta, ToolCall
from jaju.protocol.common import (MAX_STRING_CHARS, JajuRequestExtension, SamplingFields, StreamOptions, WireModel,
                                  usage_dict)
from jaju.protocol.jsonsafe import BoundedJson, check_embedded_json
from jaju.protocol.logit_bias import LogitBias
from jaju.protocol.tolerance import TolerantRequest


class TextPart(WireModel):
    type: Literal["text"]
    text: str


class FunctionCall(WireModel):
    name: str
    arguments: str

    @field_validator("arguments")
    @classmethod
    def _bounded_arguments(cls, v: str) -> str:
        # Templates and the privacy layer decode these; bound them here, once.
        check_embedded_json(v)
        return v


class ToolCallIn(WireModel):
    id: str
    type: Literal["function"] = "function"
    function: FunctionCall


class Message(WireModel):
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[TextPart] | None = None
    name: str | None = None
    tool_calls: list[ToolCallIn] | None = None
    tool_call_id: str | None = None

    @model_validator(mode="after")
    def _content_rules(self) -> Message:
        if self.content is None and not (self.role == "assistant" and self.tool_calls):
            raise ValueError(f"a {self.role} message needs content")
        if self.role == "tool" and not self.tool_call_id:
            raise ValueError("a tool message needs tool_call_id")
        return self

    def to_engine(self) -> dict[str, Any]:
        m = self.model_dump(exclude_none=True)
        if self.role == "developer":  # OpenAI's newer name for system instructions
            m["role"] = "system"
        return m


class FunctionDef(WireModel):
    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_\-]{1,64}$")]
    description: str | None = None
    parameters: BoundedJson[dict[str, JsonValue]] | None = None
    strict: StrictBool | None = None


class Tool(WireModel):
    type: Literal["function"]
    function: FunctionDef


class NamedToolChoice(WireModel):
    type: Literal["function"]
    function: dict[str, str]


class ResponseFormat(WireModel):
    type: Literal["text", "json_object", "json_schema"]
    json_schema: BoundedJson[dict[str, JsonValue]] | None = None


class ChatCompletionRequest(SamplingFields, TolerantRequest):
    model_config = ConfigDict(extra="allow", str_max_length=MAX_STRING_CHARS)  # unknown params named back
    messages: Annotated[list[Message], Field(min_length=1)]
    model: Annotated[str, Field(min_length=1, max_length=200)]
    logit_bias: LogitBias | None = None
    logprobs: StrictBool | None = None
    top_logprobs: int | None = Field(None, ge=0, le=20)
    max_completion_tokens: int | None = Field(None, ge=1)
    max_tokens: int | None = Field(None, ge=1)
    metadata: dict[Annotated[str, Field(max_length=64)], Annotated[str, Field(max_length=512)]] | None = None
    n: int = Field(1, ge=1, le=8)
    parallel_tool_calls: StrictBool = True
    response_format: ResponseFormat | None = None
    store: StrictBool | None = None
    stream: StrictBool = False
    stream_options: StreamOptions | None = None
    tool_choice: Literal["none", "auto", "required"] | NamedToolChoice | None = None
    tools: list[Tool] | None = None
    user: str | None = None
    jaju: JajuRequestExtension | None = None

    @model_validator(mode="after")
    def _tool_rules(self) -> ChatCompletionRequest:
        if self.tool_choice not in (None, "none", "auto") and not self.tools:
            raise ValueError("tool_choice requires tools")
        if self.top_logprobs and not self.logprobs:
            raise ValueError("top_logprobs requires logprobs: true")
        if self.response_format and self.response_format.type == "json_schema" and not self.response_format.json_schema:
            raise ValueError("response_format json_schema needs a json_schema object")
        return self

    def to_engine(self, request_id: str, cache_scope: str) -> ChatRequest:
        choice = self.tool_choice
        if choice is None:
            choice = "auto" if self.tools else None
        return ChatRequest(
            model=self.model,
            messages=[m.to_engine() for m in self.messages],
            sampling=self.sampling(self.max_completion_tokens or self.max_tokens, n=self.n,
                                   logprobs=bool(self.logprobs), top_logprobs=self.top_logprobs or 0),
            tools=[t.model_dump(exclude_none=True) for t in self.tools] if self.tools else None,
            tool_choice=choice.model_dump() if isinstance(choice, NamedToolChoice) else choice,
            parallel_tool_calls=self.parallel_tool_calls,
            response_format=self.response_format.model_dump(exclude_none=True) if self.response_format else None,
            request_id=request_id,
            cache_scope=cache_scope,
            stream=self.stream,
        )


def tool_calls_wire(calls: list[ToolCall], with_index: bool = False) -> list[dict[str, Any]]:
    out = []
    for i, c in enumerate(calls):
        item = {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
        if with_index:
            item = {"index": i, **item}
        out.append(item)
    return out


class ChoiceOutput(Protocol):
    """What a response needs of one choice (InferenceService's Outcome)."""

    text: str
    tool_calls: list[ToolCall]
    finish: str
    logprobs: list[Any] | None


def completion_body(rid: str, model: str, created: int, choices: list[tuple[int, ChoiceOutput]],
                    prompt_tokens: int, completion_tokens: int, jaju: dict[str, Any] | None = None) -> dict[str, Any]:
    out = []
    for index, c in choices:
        message: dict[str, Any] = {"role": "assistant", "content": c.text if (c.text or not c.tool_calls) else None}
        if c.tool_calls:
            message["tool_calls"] = tool_calls_wire(c.tool_calls)
        out.append({"index": index, "message": message, "logprobs": logprobs_content(c.logprobs),
                    "finish_reason": c.finish})
    body = {"id": rid, "object": "chat.completion", "created": created, "model": model, "choices": out,
            "usage": usage_dict(prompt_tokens, completion_tokens), "system_fingerprint": None}
    if jaju:
        body["jaju"] = jaju
    return body


def chunk_body(rid: str, model: str, created: int, delta: dict[str, Any], finish: str | None,
               include_usage_field: bool = False, *, index: int = 0,
               logprobs: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"id": rid, "object": "chat.completion.chunk", "created": created, "model": model,
                            "system_fingerprint": None,
                            "choices": [{"index": index, "delta": delta, "logprobs": logprobs,
                                         "finish_reason": finish}]}
    if include_usage_field:
        body["usage"] = None
    return body


def _token_logprob(t: Any) -> dict[str, Any]:
    return {"token": t.token, "logprob": t.logprob, "bytes": list(t.bytes),
            "top_logprobs": [{"token": a.token, "logprob": a.logprob, "bytes": list(a.bytes)}
                             for a in (t.top_logprobs or [])]}


def logprobs_content(tokens: list[Any] | None) -> dict[str, Any] | None:
    """OpenAI's `choices[i].logprobs` for chat: {"content": [{token, logprob, bytes, top_logprobs}]}."""
    if not tokens:
        return None
    return {"content": [_token_logprob(t) for t in tokens], "refusal": None}


def logprobs_wire(d: Delta) -> dict[str, Any] | None:
    return logprobs_content(getattr(d, "logprobs", None))


def delta_wire(d: Delta) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if d.text:
        out["content"] = d.text
    if d.tool_calls:
        out["tool_calls"] = tool_calls_wire(d.tool_calls, with_index=True)
    return out
