"""The Responses API on the session's in-process app (real engine, real stores; wired by build_services).

For the pass-through to remote engines: a real llama.cpp `llama-server` (it serves /v1/responses
itself) and, for misbehaviour only, the stand-in upstream of `standin.py`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.responses.standin import SCENARIOS
from tests.sovereignty.misbehaving import MisbehavingUpstream
from tests.support import LlamaServer, free_port


def auth(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture(scope="session")
def llama_server(qwen_gguf: Path, tmp_path_factory) -> Iterator[LlamaServer]:
    """One real engine server on loopback, the native Responses upstream."""
    server = LlamaServer("KR", qwen_gguf, free_port(), tmp_path_factory.mktemp("llama-responses") / "KR.log")
    try:
        server.start()
        yield server
    finally:
        server.kill()


@pytest.fixture(scope="session")
def standin() -> Iterator[MisbehavingUpstream]:
    with MisbehavingUpstream(SCENARIOS, with_request=True) as server:
        yield server
