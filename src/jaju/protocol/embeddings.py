"""POST /v1/embeddings."""

from __future__ import annotations

import base64
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field, field_validator

from jaju.protocol.common import WireModel, usage_dict
from jaju.protocol.tolerance import TolerantRequest

MAX_INPUTS = 2048


class EmbeddingExtension(WireModel):
    """jaju extension: e5 models embed queries and passages differently."""

    input_type: Literal["query", "passage"] = "query"


class EmbeddingRequest(TolerantRequest):
    input: str | list[str]
    model: Annotated[str, Field(min_length=1, max_length=200)]
    dimensions: int | None = Field(None, ge=1)
    encoding_format: Literal["float", "base64"] = "float"
    user: str | None = None
    jaju: EmbeddingExtension | None = None

    @field_validator("input")
    @classmethod
    def _inputs(cls, v: str | list[str]) -> str | list[str]:
        items = [v] if isinstance(v, str) else v
        if not items:
            raise ValueError("input must not be empty")
        if len(items) > MAX_INPUTS:
            raise ValueError(f"at most {MAX_INPUTS} inputs per request")
        if any(not s for s in items):
            raise ValueError("input strings must not be empty")
        return v

    @property
    def inputs(self) -> list[str]:
        return [self.input] if isinstance(self.input, str) else list(self.input)


def embedding_body(model: str, vectors: np.ndarray, fmt: str, prompt_tokens: int) -> dict[str, Any]:
    data = []
    for i, vec in enumerate(vectors):
        vec = np.ascontiguousarray(vec, dtype=np.float32)
        emb: Any = base64.b64encode(vec.tobytes()).decode("ascii") if fmt == "base64" else vec.tolist()
        data.append({"object": "embedding", "index": i, "embedding": emb})
    usage = usage_dict(prompt_tokens, 0)
    return {"object": "list", "data": data, "model": model,
            "usage": {"prompt_tokens": usage["prompt_tokens"], "total_tokens": usage["total_tokens"]}}
