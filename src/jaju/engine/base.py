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
    vocab_size: int | None = None  # known once an embedded model is loaded (logit_bias ids are checked against it)
    loaded: bool = False


@dataclass(slots=True)
class SamplingParams:
    """Per-request sampling. A field left `None` takes the model's default (`jaju.engine.sampling`).

    Plain data only (numbers, strings, lists), so a request can cross a process boundary.
    """

    max_tokens: int | None = None
    temperature: float | None = 1.0
    top_p: float | None = 1.0
    seed: int | None = None
    stop: list[str] = field(default_factory=list)
    frequency_penalty: float = 0.0
    presence_penalty: float = 0.0
    # Extensions beyond OpenAI's fields (vLLM spells them the same way); None = the model's default.
    top_k: int | None = None  # 0 = off
    min_p: float | None = None  # 0 = off
    repetition_penalty: float | None = None  # 1.0 = off; over the last 64 generated tokens
    dry_multiplier: float | None = None  # 0 = off; DRY penalises extending a span already written
    # Choices and log-probabilities (OpenAI's n, logprobs, top_logprobs; completions' integer
    # `logprobs: k` maps to logprobs=True, top_logprobs=k).
    n: int = 1
    logprobs: bool = False
    top_logprobs: int = 0  # 0..20 alternatives per token, most likely first


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
    # Who may reuse the KV cache this request leaves behind (the tenant): with the prompt cache on, a request
    # is served faster after one with the same prefix, so that must never be another tenant's.
    cache_scope: str = ""
    # Whether the client reads the reply as it is made. A remote engine is asked for one JSON reply when
    # it does not (cheaper on both sides); the embedded engine streams internally either way.
    stream: bool = True


@dataclass(slots=True)
class CompletionRequest:
    model: str
    prompt: str
    sampling: SamplingParams = field(default_factory=SamplingParams)
    echo: bool = False
    logits_hooks: list[LogitsHook] = field(default_factory=list)
    request_id: str = ""
    cache_scope: str = ""  # as ChatRequest's
    stream: bool = True


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
class TopLogprob:
    """One alternative at a token position."""

    token: str
    bytes: list[int]
    logprob: float


@dataclass(slots=True)
class TokenLogprob:
    """A sampled token with its log-probability and, when asked for, the most likely alternatives.

    Log-probabilities are the model's own distribution: a log-softmax over the raw logits of that
    position, before penalties, temperature, top-k/top-p, grammars and logits hooks (as OpenAI reports
    them). `token` is the token's text; a token that is only part of a UTF-8 character is written
    `bytes:\\xeb\\x8b` as OpenAI does, and `bytes` always holds the exact bytes.
    """

    token: str
    bytes: list[int]
    logprob: float
    top_logprobs: list[TopLogprob] = field(default_factory=list)


@dataclass(slots=True)
class Delta:
    """One step of a generation: new text, finished tool calls, and at the end a reason and usage.

    Contract with `n` choices (SamplingParams.n): a backend's chat()/complete() yields the deltas of all
    choices interleaved, each marked with its `index` (0..n-1). Every choice ends with exactly one delta
    whose `finish_reason` is set; the stream ends after the last choice has finished, and only that
    last delta carries `usage` (prompt tokens once, completion tokens summed over the choices). With
    n = 1 this is the familiar single stream: index 0, one final delta with reason and usage.
    `logprobs` lists the tokens sampled since the previous delta of the same choice (only when
    SamplingParams.logprobs); their bytes concatenate to the choice's output, which can run ahead of or
    behind `text` where text is held back (an unfinished character, a possible stop string).
    """

    text: str = ""
    tool_calls: list[ToolCall] | None = None
    finish_reason: str | None = None  # stop | length | tool_calls | content_filter
    usage: Usage | None = None
    index: int = 0
    logprobs: list[TokenLogprob] | None = None


class Remaining:
    """The choices of one generation that have not finished, as one reader of its deltas has seen them.

    The Delta contract in one place: a generation of `n` choices ends with the finish of its last choice.
    Every reader keeps its own count (the engine thread, the engine process's loop, the worker), because a
    reader behind a queue must not go by a count kept ahead of it. True while any choice is still running.
    """

    __slots__ = ("left",)

    def __init__(self, n: int):
        self.left = n

    def finish(self, delta: Delta) -> bool:
        """Count `delta`; True when it ends the generation (the last of its choices finished)."""
        if delta.finish_reason is not None:
            self.left -= 1
            return not self.left
        return False

    def __bool__(self) -> bool:
        return self.left > 0


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


@runtime_checkable
class RespondsNatively(Protocol):
    """A backend that may serve OpenAI's Responses API itself (a remote vLLM or llama-server).

    `respond` takes the same prepared request as `chat` and yields the same Deltas; the router calls it
    only when `speaks_responses()` says yes, and runs `chat` otherwise.
    """

    async def speaks_responses(self) -> bool: ...

    def respond(self, request: ChatRequest) -> AsyncIterator[Delta]: ...
