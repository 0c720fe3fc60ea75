"""Shared by the knowledge benchmarks: the konlpy corpus through the product's parser and chunker."""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from jaju.knowledge.chunking import Chunk, Chunker
from jaju.knowledge.config import KnowledgeSettings
from jaju.knowledge.dense import E5Embedder
from jaju.knowledge.document import ParsedDocument
from jaju.knowledge.ingest import chunk_passage
from jaju.knowledge.parsers import parse_document
from jaju.korean import KoreanAnalyzer

CACHE = Path(os.environ.get("JAJU_BENCH_CACHE", Path.home() / ".cache" / "jaju-bench"))


def corpus_root() -> Path:
    import konlpy  # bench extra: konlpy==0.6.0 ships the public-domain texts (no Java needed to read them)

    return Path(konlpy.__file__).parent / "data" / "corpus"


def corpus_files() -> list[str]:
    root = corpus_root()
    return ["kolaw/constitution.txt"] + sorted(f"kobill/{p.name}" for p in (root / "kobill").glob("*.txt"))


@dataclass
class CorpusChunk:
    source: str
    chunk: Chunk
    passage: str


def build_chunks(analyzer: KoreanAnalyzer, embedder: E5Embedder, settings: KnowledgeSettings
                 ) -> tuple[dict[str, ParsedDocument], list[CorpusChunk]]:
    chunker = Chunker(analyzer, embedder.token_count, settings.chunk_tokens, settings.overlap_tokens,
                      settings.structure, settings.block_tokens)
    docs, chunks = {}, []
    for rel in corpus_files():
        doc = parse_document(Path(rel).name, (corpus_root() / rel).read_bytes())
        docs[rel] = doc
        chunks += [CorpusChunk(rel, c, chunk_passage(c, doc.title)) for c in chunker.chunk(doc)]
    return docs, chunks


def embed_cached(embedder: E5Embedder, passages: list[str]) -> np.ndarray:
    """Passage vectors, cached on disk by content: embedding runs at ~10-17 passages/s on 2 cores."""
    CACHE.mkdir(parents=True, exist_ok=True)
    key = hashlib.sha256("\x00".join(passages).encode()).hexdigest()[:24]
    path = CACHE / f"e5-{key}.npy"
    if path.exists():
        return np.load(path)
    vectors = embedder.passages(passages)
    np.save(path, vectors)
    return vectors


def answer_spans(text: str, answer: str) -> list[tuple[int, int]]:
    """Every place the answer occurs in the text, ignoring differences in whitespace and line breaks."""
    pattern = r"\s*".join(re.escape(ch) for ch in answer if not ch.isspace())
    return [(m.start(), m.end()) for m in re.finditer(pattern, text)]
