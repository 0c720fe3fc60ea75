"""The Backend protocol and the engine-neutral request and output types every backend speaks."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

# A hook that may change next-token logits in place: (token ids so far, logits) -> None.
# The compliance watermark is one; it runs on the engine thread, so it must be quick.
LogitsHook = Callable[[list[int], np.ndarray], None]


@dataclass(slots=True)
class ModelInfo:
    """One model a backend serves, with the provenance a sovereign deployment must show."""

    id: str
    backend: str
    jurisdiction: str
    kind: str = "chat"  # chat | completion | embedding
    sha256: str | None = None
    size: int | None = None
    license: str = "unknown"
    origin: str = ""
    context_length: int | None = None
    loaded: bool = False


@dataclass(slots=True)
class SamplingParams:
    max_tokens: int | None = None
    temperature: float = 1.0
    top_p: float = 1.0
    seed: int | None = None
    stop: list[str] = field(default_factory=list)
    frequency_penalty: float = 0.0
    presence_penalty: float = 0.0


@dataclass(slots=True)
class ChatRequest:
    """A chat request after protocol validation and policy, before any engine sees it."""

    model: str
    messages: list[dict[str, Any]]
    sampling: SamplingParams = field(default_factory=SamplingParams)
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None
    parallel_tool_calls: bool = True
    # {"type": "json_object"} or {"type": "json_schema", "json_schema": {...}}
    response_format: dict[str, Any] | None = None
    logits_hooks: list[LogitsHook] = field(default_factory=list)
    request_id: str = ""


@dataclass(slots=True)
class CompletionRequest:
    model: str
    prompt: str
    sampling: SamplingParams = field(default_factory=SamplingParams)
    echo: bool = False
    logits_hooks: list[LogitsHook] = field(default_factory=list)
    request_id: str = ""


@dataclass(slots=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(slots=True)
class ToolCall:
    id: str
    name: str
    arguments: str  # JSON text, as OpenAI sends it


@dataclass(slots=True)
class Delta:
    """One step of a generation: new text, finished tool calls, and at the end a reason and usage."""

    text: str = ""
    tool_calls: list[ToolCall] | None = None
    finish_reason: str | None = None  # stop | length | tool_calls | content_filter
    usage: Usage | None = None


@dataclass(slots=True)
class EmbeddingResult:
    vectors: np.ndarray  # (n, dim) float32
    prompt_tokens: int


@runtime_checkable
class Backend(Protocol):
    """An inference engine: the embedded llama.cpp engine, or a remote OpenAI-compatible server."""

    name: str
    jurisdiction: str

    def models(self) -> list[ModelInfo]: ...

    def chat(self, request: ChatRequest) -> AsyncIterator[Delta]:
        """Stream deltas; closing the iterator early cancels the generation and frees the engine."""
        ...

    def complete(self, request: CompletionRequest) -> AsyncIterator[Delta]: ...

    async def embed(self, model: str, inputs: list[str], input_type: str = "query") -> EmbeddingResult: ...

    async def count_tokens(self, model: str, text: str | None = None,
                           messages: list[dict[str, Any]] | None = None) -> int: ...

    async def healthy(self) -> bool: ...

    async def close(self) -> None: ...
