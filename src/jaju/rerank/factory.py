"""Builds the RerankService on the process's one e5 engine (nothing runs at import time)."""

from __future__ import annotations

import threading

from jaju.engine.catalog import EMBEDDING_MODEL
from jaju.rerank.scorers import E5Scorer
from jaju.rerank.service import RemoteRerank, RerankService


def build_rerank_service(e5_engine, e5_lock: threading.Lock, remote: RemoteRerank | None = None) -> RerankService:
    """Pass the embedding backend's engine and lock (`models.embeddings.engine`, `.lock`): ONE e5 engine."""
    return RerankService({EMBEDDING_MODEL: E5Scorer(e5_engine, e5_lock)}, remote)
