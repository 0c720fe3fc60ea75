"""An in-memory BM25 index over integer slots, updated incrementally (add, remove, compact)."""

from __future__ import annotations

import math
from array import array
from collections import Counter

import numpy as np


class BM25Index:
    """Okapi BM25 over slots; a removed slot stops scoring at once and is reclaimed by compaction."""

    def __init__(self, k1: float = 1.2, b: float = 0.75):
        self.k1, self.b = k1, b
        self._vocab: dict[str, int] = {}
        self._post_slots: list[array] = []  # term id -> slots holding it
        self._post_tf: list[array] = []  # term id -> term frequency in that slot
        self._df: list[int] = []
        self._slot_terms: list[np.ndarray | None] = []  # slot -> term ids (for df upkeep on removal)
        self._dl = array("f")
        self._alive = bytearray()
        self._live = 0
        self._total_len = 0.0
        self._dead_postings = 0
        self._arrays: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # numpy views, rebuilt when stale

    def __len__(self) -> int:
        return self._live

    @property
    def capacity(self) -> int:
        return len(self._dl)

    def add(self, slot: int, terms: list[str] | dict[str, int]) -> None:
        """Index `terms` (a list, or term -> count) under `slot`, which must be the next slot."""
        if slot != len(self._dl):
            raise ValueError("BM25 slots are appended in order")
        counts = terms if isinstance(terms, dict) else Counter(terms)
        ids = np.empty(len(counts), dtype=np.int32)
        for n, (term, tf) in enumerate(counts.items()):
            tid = self._vocab.get(term)
            if tid is None:
                tid = self._vocab[term] = len(self._df)
                self._df.append(0)
                self._post_slots.append(array("i"))
                self._post_tf.append(array("f"))
            self._post_slots[tid].append(slot)
            self._post_tf[tid].append(tf)
            self._df[tid] += 1
            self._arrays.pop(tid, None)
            ids[n] = tid
        length = float(sum(counts.values()))
        self._slot_terms.append(ids)
        self._dl.append(length)
        self._alive.append(1)
        self._live += 1
        self._total_len += length

    def remove(self, slot: int) -> None:
        if slot >= len(self._alive) or not self._alive[slot]:
            return
        self._alive[slot] = 0
        self._live -= 1
        self._total_len -= self._dl[slot]
        ids = self._slot_terms[slot]
        for tid in ids:
            self._df[tid] -= 1
        self._dead_postings += len(ids)
        self._slot_terms[slot] = None

    def needs_compaction(self) -> bool:
        return self._dead_postings > 100_000 or (self.capacity > 0 and self._live < 0.7 * self.capacity)

    def compact_postings(self) -> None:
        """Drop removed slots from the postings lists (slots keep their numbers)."""
        alive = np.frombuffer(bytes(self._alive), dtype=np.uint8).astype(bool)
        for tid in range(len(self._df)):
            slots = np.frombuffer(self._post_slots[tid], dtype=np.int32)
            if len(slots) == 0:
                continue
            keep = alive[slots]
            if keep.all():
                continue
            tfs = np.frombuffer(self._post_tf[tid], dtype=np.float32)
            self._post_slots[tid] = array("i", slots[keep].tobytes())
            self._post_tf[tid] = array("f", tfs[keep].tobytes())
            self._arrays.pop(tid, None)
        self._dead_postings = 0

    def _postings(self, tid: int) -> tuple[np.ndarray, np.ndarray]:
        cached = self._arrays.get(tid)
        if cached is None or len(cached[0]) != len(self._post_slots[tid]):
            cached = (np.array(self._post_slots[tid], dtype=np.int32),
                      np.array(self._post_tf[tid], dtype=np.float32))
            self._arrays[tid] = cached
        return cached

    def scores(self, terms: list[str]) -> np.ndarray:
        """BM25 score of every slot (removed slots score 0); a repeated query term counts once more."""
        scores = np.zeros(self.capacity, dtype=np.float32)
        if not self._live:
            return scores
        avgdl = max(self._total_len / self._live, 1e-9)
        dl = np.frombuffer(self._dl, dtype=np.float32)
        n = self._live
        for term, qtf in Counter(terms).items():
            tid = self._vocab.get(term)
            if tid is None or self._df[tid] <= 0:
                continue
            df = self._df[tid]
            idf = math.log(1.0 + (n - df + 0.5) / (df + 0.5))
            slots, tf = self._postings(tid)
            norm = self.k1 * (1.0 - self.b + self.b * dl[slots] / avgdl)
            scores[slots] += (qtf * idf) * tf * (self.k1 + 1.0) / (tf + norm)
        scores *= np.frombuffer(self._alive, dtype=np.uint8)
        return scores
