"""One knowledge base's in-memory search index: BM25 slots, vectors, and which document owns each slot."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from jaju.knowledge.bm25 import BM25Index
from jaju.knowledge.dense import VectorIndex
from jaju.knowledge.fusion import rrf, top_k

MODES = ("hybrid", "bm25", "dense")


@dataclass(slots=True)
class DocInfo:
    """What filters and hits need about a document, kept in memory (no source text)."""

    id: str
    filename: str
    title: str
    format: str
    labels: dict = field(default_factory=dict)
    subject: str | None = None


@dataclass(slots=True)
class IndexEntry:
    chunk_id: int
    terms: dict[str, int]
    vector: np.ndarray


@dataclass(slots=True)
class SlotHit:
    chunk_id: int
    document_id: str
    score: float
    bm25: float | None = None
    dense: float | None = None


class KbIndex:
    """BM25 over Kiwi terms plus e5 vectors for one knowledge base, updated per document."""

    def __init__(self, dim: int, version: int = 0):
        self.version = version
        self.bm25 = BM25Index()
        self.vectors = VectorIndex(dim)
        self._slot_chunk: list[int] = []
        self._slot_doc: list[str] = []
        self.doc_slots: dict[str, list[int]] = {}
        self.docs: dict[str, DocInfo] = {}

    def __len__(self) -> int:
        return len(self.bm25)

    @property
    def capacity(self) -> int:
        return len(self._slot_chunk)

    def add_document(self, doc: DocInfo, entries: list[IndexEntry]) -> None:
        if doc.id in self.docs:
            return
        slots = []
        for entry in entries:
            slot = len(self._slot_chunk)
            self.bm25.add(slot, entry.terms)
            self.vectors.add(slot, entry.vector)
            self._slot_chunk.append(entry.chunk_id)
            self._slot_doc.append(doc.id)
            slots.append(slot)
        self.docs[doc.id] = doc
        self.doc_slots[doc.id] = slots

    def remove_document(self, doc_id: str) -> None:
        for slot in self.doc_slots.pop(doc_id, []):
            self.bm25.remove(slot)
            self.vectors.remove(slot)
        self.docs.pop(doc_id, None)
        if self.bm25.needs_compaction():
            self.bm25.compact_postings()

    def wasted(self) -> float:
        """Share of slots that belong to removed documents (a rebuild from the store reclaims them)."""
        return 1.0 - len(self) / self.capacity if self.capacity else 0.0

    def _mask(self, doc_ids: set[str] | None) -> np.ndarray:
        alive = self.vectors.alive().copy()
        if doc_ids is None:
            return alive
        allowed = np.zeros(self.capacity, dtype=bool)
        for doc_id in doc_ids:
            slots = self.doc_slots.get(doc_id)
            if slots:
                allowed[slots] = True
        return alive & allowed

    def search(self, terms: list[str] | None, vector: np.ndarray | None, k: int, mode: str = "hybrid",
               doc_ids: set[str] | None = None, candidates: int = 50) -> list[SlotHit]:
        """The k best chunks; hybrid fuses the BM25 and dense candidate lists by reciprocal rank."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}")
        if not self.capacity:
            return []
        mask = self._mask(doc_ids)
        depth = max(k, candidates) if mode == "hybrid" else k
        lexical = top_k(self.bm25.scores(terms), depth, mask, min_score=0.0) if mode != "dense" and terms else []
        semantic = top_k(self.vectors.scores(vector), depth, mask) if mode != "bm25" and vector is not None else []
        if mode == "bm25":
            ranked = lexical
        elif mode == "dense":
            ranked = semantic
        else:
            ranked = rrf([[s for s, _ in lexical], [s for s, _ in semantic]])
        b = dict(lexical)
        d = dict(semantic)
        return [SlotHit(self._slot_chunk[s], self._slot_doc[s], score, b.get(s), d.get(s))
                for s, score in ranked[:k]]
