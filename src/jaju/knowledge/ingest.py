"""From uploaded bytes to ready-to-store chunks: parse, chunk, index terms, embeddings (no database)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from jaju.knowledge.chunking import Chunk, Chunker
from jaju.knowledge.dense import Embedder
from jaju.knowledge.document import ParsedDocument
from jaju.knowledge.errors import DocumentError, EmptyDocument
from jaju.knowledge.parsers import parse_document
from jaju.knowledge.terms import TermExtractor


@dataclass(slots=True)
class PreparedDocument:
    """Everything written for one file, computed before any write so a failure leaves nothing behind."""

    filename: str
    sha256: str
    size: int
    parsed: ParsedDocument
    chunks: list[Chunk]
    terms: list[dict[str, int]]
    vectors: np.ndarray


def chunk_passage(chunk: Chunk, title: str) -> str:
    """The text that is embedded and BM25-indexed: heading context first, then the chunk."""
    context = chunk.context(title)
    return f"{context}\n{chunk.text}" if context else chunk.text


def count_terms(terms: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for t in terms:
        counts[t] = counts.get(t, 0) + 1
    return counts


class Ingestor:
    """Turns one file into a PreparedDocument with the knowledge base's chunker, terms and embedder."""

    def __init__(self, chunker: Chunker, terms: TermExtractor, embedder: Embedder, max_bytes: int):
        self.chunker = chunker
        self.terms = terms
        self.embedder = embedder
        self.max_bytes = max_bytes

    def prepare(self, filename: str, data: bytes) -> PreparedDocument:
        if len(data) > self.max_bytes:
            raise DocumentError(filename, f"it is {len(data) // (1024 * 1024)} MB, over the "
                                          f"{self.max_bytes // (1024 * 1024)} MB limit per file")
        parsed = parse_document(filename, data)
        chunks = self.chunker.chunk(parsed)
        if not chunks:
            raise EmptyDocument(filename, "no text remained after splitting it into sentences")
        passages = [chunk_passage(c, parsed.title) for c in chunks]
        terms = [count_terms(t) for t in self.terms.terms_many(passages)]
        vectors = self.embedder.passages(passages)
        return PreparedDocument(filename, hashlib.sha256(data).hexdigest(), len(data), parsed, chunks,
                                terms, vectors)
