"""Declared response shapes, for the OpenAPI schema only.

Routers name these in `responses=` (as vLLM's server does), so clients and fuzzers see typed
responses, while the request path keeps writing plain dicts: FastAPI does not validate or re-serialise
a response against them, which would cost every request for nothing.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel


class ErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class ErrorResponse(BaseModel):
    error: ErrorDetail


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class FunctionCallOut(BaseModel):
    name: str
    arguments: str


class ToolCallOut(BaseModel):
    id: str
    type: Literal["function"] = "function"
    function: FunctionCallOut


class TopLogprob(BaseModel):
    token: str
    logprob: float
    bytes: list[int] | None = None


class TokenLogprob(TopLogprob):
    top_logprobs: list[TopLogprob]


class ChoiceLogprobs(BaseModel):
    content: list[TokenLogprob] | None = None
    refusal: list[TokenLogprob] | None = None


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str | None = None
    tool_calls: list[ToolCallOut] | None = None


class ChatChoice(BaseModel):
    index: int
    message: AssistantMessage
    logprobs: ChoiceLogprobs | None = None
    finish_reason: Literal["stop", "length", "tool_calls", "content_filter"]


class JajuExtension(BaseModel):
    """jaju's one extension field: the AI-generated label, where it ran, and a signed provenance manifest."""

    ai_generated: bool = True
    model: str | None = None
    weights_sha256: str | None = None
    jurisdiction: str | None = None
    backend: str | None = None
    request_id: str | None = None
    created: str | None = None
    watermark: str | None = None
    notices: dict[str, list[str]] = {}
    provenance: dict[str, Any] | None = None
    citations: list[dict[str, Any]] | None = None
    pii: dict[str, int] | None = None


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[ChatChoice]
    usage: Usage
    system_fingerprint: str | None = None
    jaju: JajuExtension | None = None


class CompletionLogprobs(BaseModel):
    tokens: list[str]
    token_logprobs: list[float]
    top_logprobs: list[dict[str, float]]
    text_offset: list[int]


class CompletionChoice(BaseModel):
    index: int
    text: str
    logprobs: CompletionLogprobs | None = None
    finish_reason: Literal["stop", "length", "content_filter"]


class TextCompletion(BaseModel):
    id: str
    object: Literal["text_completion"] = "text_completion"
    created: int
    model: str
    choices: list[CompletionChoice]
    usage: Usage
    system_fingerprint: str | None = None
    jaju: JajuExtension | None = None


class Embedding(BaseModel):
    object: Literal["embedding"] = "embedding"
    index: int
    embedding: list[float] | str


class EmbeddingUsage(BaseModel):
    prompt_tokens: int
    total_tokens: int


class EmbeddingList(BaseModel):
    object: Literal["list"] = "list"
    data: list[Embedding]
    model: str
    usage: EmbeddingUsage


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str
    jaju: dict[str, Any] | None = None


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


class TokenCount(BaseModel):
    object: Literal["tokenize"] = "tokenize"
    model: str
    count: int
    max_model_len: int | None = None


ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse, "description": text}
    for status, text in ((400, "Invalid request"), (401, "Missing or invalid API key"),
                         (403, "The key lacks the scope"), (404, "Not found"), (413, "Request too large"),
                         (422, "Refused by the tenant's policy"), (429, "Rate limit or quota"),
                         (502, "The upstream engine answered with something invalid"),
                         (503, "No permitted backend, or the audit store, can take the request"),
                         (504, "The upstream engine timed out"))
}


def documented(model: type[BaseModel], stream: bool = False) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: the 200 body (and SSE when it streams) plus the error shape."""
    ok: dict[str, Any] = {"model": model, "description": "OK"}
    if stream:
        ok["content"] = {"text/event-stream": {"schema": {"type": "string",
                                                          "description": "server-sent events, `data: {chunk}`"}}}
    return {200: ok, **ERRORS}
