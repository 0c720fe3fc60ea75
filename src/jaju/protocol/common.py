"""Pieces shared by several endpoint families."""

from __future__ import annotations

import re
import time
import unicodedata
import uuid
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator

from jaju.engine.base import SamplingParams
from jaju.errors import NotFound

# A bound on every string field. Far above any body the server accepts (BodyLimit cuts those first), it is
# there for what it makes pydantic-core do: a string under a length constraint is read as UTF-8 in Rust,
# so text that is not valid Unicode (a lone surrogate sent as "\ud800") fails validation as
# `string_unicode` with its location, at no cost in Python. api/errors.py turns that into a 400.
MAX_STRING_CHARS = 32 * 1024 * 1024


class WireModel(BaseModel):
    # Unknown fields are ignored, as OpenAI-compatible servers do, so newer clients keep working.
    model_config = ConfigDict(extra="ignore", str_max_length=MAX_STRING_CHARS)


class StreamOptions(WireModel):
    include_usage: StrictBool = False


class JajuRequestExtension(WireModel):
    """jaju's request extension (the `jaju` field): sovereignty, privacy and knowledge options."""

    subject: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    conversation_id: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    knowledge_bases: list[str] = []
    knowledge_top_k: int = Field(5, ge=1, le=50)
    # Korean speech level of the answer (하십시오체, 해요체, 반말); the tenant's setting when left out.
    speech_level: Literal["formal", "polite", "casual"] | None = None
    # "sliding": drop the oldest turns so the prompt fits the model's context (never the system message).
    history: Literal["full", "sliding"] = "full"


Stop = str | list[str] | None


def stop_list(stop: Stop) -> list[str]:
    if stop is None:
        return []
    return [stop] if isinstance(stop, str) else list(stop)


class SamplingFields(WireModel):
    """Sampling fields common to chat and completions."""

    frequency_penalty: float = Field(0.0, ge=-2.0, le=2.0)
    presence_penalty: float = Field(0.0, ge=-2.0, le=2.0)
    seed: int | None = None
    stop: Stop = None
    # Left out, these take the model's own recommended defaults (see jaju.engine.sampling).
    temperature: float | None = Field(None, ge=0.0, le=2.0)
    top_p: float | None = Field(None, gt=0.0, le=1.0)
    # Extensions vLLM also accepts at the top level; None = the model's default.
    top_k: int | None = Field(None, ge=0, le=1000)
    min_p: float | None = Field(None, ge=0.0, le=1.0)
    repetition_penalty: float | None = Field(None, gt=0.0, le=2.0)

    @field_validator("stop")
    @classmethod
    def _stop_limits(cls, v: Stop) -> Stop:
        items = stop_list(v)
        if len(items) > 4:
            raise ValueError("at most 4 stop sequences")
        if any(not isinstance(s, str) or len(s) > 256 for s in items):
            raise ValueError("stop sequences are strings of at most 256 characters")
        return v

    def sampling(self, max_tokens: int | None, *, n: int = 1, logprobs: bool = False,
                 top_logprobs: int = 0) -> SamplingParams:
        return SamplingParams(max_tokens=max_tokens, temperature=self.temperature, top_p=self.top_p,
                              seed=self.seed, stop=stop_list(self.stop),
                              frequency_penalty=self.frequency_penalty, presence_penalty=self.presence_penalty,
                              top_k=self.top_k, min_p=self.min_p, repetition_penalty=self.repetition_penalty,
                              n=n, logprobs=logprobs, top_logprobs=top_logprobs)


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex}"


def now() -> int:
    return int(time.time())


def usage_dict(prompt: int, completion: int) -> dict[str, Any]:
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


# What a model name looks like: ASCII letters first, then letters, digits and . _ : / -, at most 64.
_MODEL_NAME = re.compile(r"[A-Za-z][A-Za-z0-9._:/-]{0,63}")


def echo(value: str, limit: int = 64) -> str:
    """A client's value made safe to repeat in an error: no control or format characters, bounded."""
    clean = "".join(c if unicodedata.category(c)[0] != "C" else "?" for c in value[:limit])
    return clean + ("…" if len(value) > limit else "")


def named_model(name: str) -> str:
    """'The model 'x'' when x looks like a model name; otherwise it is not repeated (it may be personal data)."""
    return f"The model '{name}'" if _MODEL_NAME.fullmatch(name) else "The requested model"


def unknown_model(name: str) -> NotFound:
    return NotFound(f"{named_model(name)} does not exist. GET /v1/models lists the models here.",
                    "model_not_found", "model")
