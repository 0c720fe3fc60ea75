"""Pieces shared by several endpoint families."""

from __future__ import annotations

import time
import uuid
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from jaju.engine.base import SamplingParams


class WireModel(BaseModel):
    # Unknown fields are ignored, as OpenAI-compatible servers do, so newer clients keep working.
    model_config = ConfigDict(extra="ignore")


class StreamOptions(WireModel):
    include_usage: bool = False


class JajuRequestExtension(WireModel):
    """jaju's request extension (the `jaju` field): sovereignty, privacy and knowledge options."""

    subject: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    conversation_id: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    knowledge_bases: list[str] = []
    knowledge_top_k: int = Field(5, ge=1, le=50)


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
    temperature: float = Field(1.0, ge=0.0, le=2.0)
    top_p: float = Field(1.0, gt=0.0, le=1.0)

    @field_validator("stop")
    @classmethod
    def _stop_limits(cls, v: Stop) -> Stop:
        items = stop_list(v)
        if len(items) > 4:
            raise ValueError("at most 4 stop sequences")
        if any(not isinstance(s, str) or len(s) > 256 for s in items):
            raise ValueError("stop sequences are strings of at most 256 characters")
        return v

    def sampling(self, max_tokens: int | None) -> SamplingParams:
        return SamplingParams(max_tokens=max_tokens, temperature=self.temperature, top_p=self.top_p,
                              seed=self.seed, stop=stop_list(self.stop),
                              frequency_penalty=self.frequency_penalty, presence_penalty=self.presence_penalty)


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex}"


def now() -> int:
    return int(time.time())


def usage_dict(prompt: int, completion: int) -> dict[str, Any]:
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
