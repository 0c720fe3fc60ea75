"""Builds the KnowledgeService from settings and the process-wide Kiwi, e5 engine and key service."""

from __future__ import annotations

import threading
from typing import Any

from jaju.knowledge.config import KnowledgeSettings
from jaju.knowledge.crypto import Cipher
from jaju.knowledge.dense import E5Embedder
from jaju.knowledge.filenames import PiiScanner
from jaju.knowledge.service import KnowledgeService, Reranker
from jaju.korean.analyzer import KoreanAnalyzer
from jaju.store.db import Database


def build_knowledge_service(db: Database, korean: KoreanAnalyzer, cipher: Cipher, section: dict[str, Any], *,
                            e5_engine: Any = None, e5_lock: threading.Lock | None = None,
                            embedding_threads: int | None = None,
                            reranker: Reranker | None = None,
                            privacy: PiiScanner | None = None) -> KnowledgeService:
    """Pass the embedding backend's engine and lock to keep ONE e5 engine per process.

    Pass the PrivacyService as `privacy`: documents can then be tagged with a data subject (looked up by
    the vault's keyed digest) and filenames are screened for personal data.
    """
    settings = KnowledgeSettings.from_section(section)
    embedder = E5Embedder(e5_engine, e5_lock, num_threads=embedding_threads)
    return KnowledgeService(db, korean, embedder, cipher, settings, reranker, privacy=privacy)
