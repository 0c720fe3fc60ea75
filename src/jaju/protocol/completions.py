"""POST /v1/completions (legacy text completions)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import ConfigDict, Field, StrictBool, field_validator

from jaju.engine.base import CompletionRequest
from jaju.protocol.common import MAX_STRING_CHARS, JajuRequestExtension, SamplingFields, StreamOptions, usage_dict
from jaju.protocol.logit_bias import LogitBias
from jaju.protocol.tolerance import TolerantRequest


class TextCompletionRequest(SamplingFields, TolerantRequest):
    model_config = ConfigDict(extra="allow", str_max_length=MAX_STRING_CHARS)  # unknown params named back
    model: Annotated[str, Field(min_length=1, max_length=200)]
    prompt: str | list[str]
    echo: StrictBool = False
    logit_bias: LogitBias | None = None
    max_tokens: int | None = Field(16, ge=1)
    logprobs: int | None = Field(None, ge=0, le=5)  # the legacy API: top alternatives per token
    n: int = Field(1, ge=1, le=8)
    stream: StrictBool = False
    stream_options: StreamOptions | None = None
    suffix: str | None = None
    user: str | None = None
    jaju: JajuRequestExtension | None = None

    @field_validator("prompt")
    @classmethod
    def _one_prompt(cls, v: str | list[str]) -> str | list[str]:
        if isinstance(v, list) and len(v) != 1:
            raise ValueError("jaju takes one prompt per request (a string or a one-item list)")
        return v

    @field_validator("suffix")
    @classmethod
    def _no_suffix(cls, v: str | None) -> str | None:
        if v:
            raise ValueError("suffix (fill-in-the-middle) is not supported")
        return v

    @property
    def prompt_text(self) -> str:
        return self.prompt if isinstance(self.prompt, str) else self.prompt[0]

    def to_engine(self, request_id: str, cache_scope: str) -> CompletionRequest:
        sampling = self.sampling(self.max_tokens, n=self.n, logprobs=self.logprobs is not None,
                                 top_logprobs=self.logprobs or 0)
        return CompletionRequest(model=self.model, prompt=self.prompt_text, sampling=sampling,
                                 echo=self.echo, request_id=request_id, cache_scope=cache_scope,
                                 stream=self.stream)


def completion_body(rid: str, model: str, created: int, choices: list[tuple[int, Any]], echo: str,
                    prompt_tokens: int, completion_tokens: int, jaju: dict[str, Any] | None = None) -> dict[str, Any]:
    out = [{"index": i, "text": echo + c.text, "logprobs": logprobs_legacy(c.logprobs, len(echo)),
            "finish_reason": c.finish} for i, c in choices]
    body = {"id": rid, "object": "text_completion", "created": created, "model": model, "choices": out,
            "usage": usage_dict(prompt_tokens, completion_tokens), "system_fingerprint": None}
    if jaju:
        body["jaju"] = jaju
    return body


def chunk_body(rid: str, model: str, created: int, text: str, finish: str | None, *, index: int = 0,
               logprobs: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"id": rid, "object": "text_completion", "created": created, "model": model,
            "choices": [{"index": index, "text": text, "logprobs": logprobs, "finish_reason": finish}]}


def logprobs_legacy(tokens: list[Any] | None, offset: int = 0) -> dict[str, Any] | None:
    """The completions API's logprobs: parallel lists of tokens, their logprobs, top alternatives, offsets."""
    if not tokens:
        return None
    offsets, at = [], offset
    for t in tokens:
        offsets.append(at)
        at += len(t.token)
    return {"tokens": [t.token for t in tokens], "token_logprobs": [t.logprob for t in tokens],
            "top_logprobs": [{a.token: a.logprob for a in (t.top_logprobs or [])} for t in tokens],
            "text_offset": offsets}


def logprobs_wire(d: Any) -> dict[str, Any] | None:
    return logprobs_legacy(getattr(d, "logprobs", None))
