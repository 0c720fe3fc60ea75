"""Property-based fuzzing of every route in the OpenAPI schema (schemathesis) against a live `jaju serve`:
whatever a client sends, the answer is never a server error. The document upload (multipart) is fuzzed
too, into a real knowledge base."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.engine

# Loaded by schemathesis (SCHEMATHESIS_HOOKS): generation routes get few tokens, so 15 examples a route
# stay quick, and uploads go to a knowledge base that exists, so their files reach the parsers.
HOOKS = '''
import os
import schemathesis

@schemathesis.hook
def map_body(ctx, body):
    if isinstance(body, dict):
        for field in ("max_tokens", "max_completion_tokens"):
            if isinstance(body.get(field), int) and not isinstance(body.get(field), bool):
                body[field] = max(1, min(body[field], 4))
        if ctx.operation.path == "/v1/korean/summarize":
            body["max_tokens"] = 16  # its least; left out it would be 256 tokens per call
    return body

@schemathesis.hook
def map_path_parameters(ctx, path_parameters):
    if path_parameters and "kb_id" in path_parameters and ctx.operation.path.endswith("/documents") \\
            and ctx.operation.method.upper() == "POST":
        path_parameters["kb_id"] = os.environ["JAJU_FUZZ_KB"]
    return path_parameters
'''


def test_no_input_makes_a_server_error(live, tmp_path):
    # The first knowledge call loads that service (Korean analyzer, embeddings): allow it time, once.
    with httpx.Client(base_url=live.base_url, headers={"Authorization": f"Bearer {live.admin_key}"},
                      timeout=300) as client:
        schema = client.get("/openapi.json")
        assert schema.status_code == 200, schema.text
        assert "/v1/knowledge-bases/{kb_id}/documents" in schema.json()["paths"]
        kb = client.post("/v1/knowledge-bases", json={"name": "퍼징 대상"}).json()["id"]
        first = client.post(f"/v1/knowledge-bases/{kb}/documents", files=[
            ("files", ("민원안내.txt", "민원은 구청 1층 민원실에서 접수합니다.".encode(), "text/plain"))])
        assert first.status_code == 200 and first.json()["succeeded"] == 1, first.text
    (tmp_path / "openapi.json").write_text(schema.text, encoding="utf-8")
    (tmp_path / "jaju_fuzz_hooks.py").write_text(HOOKS, encoding="utf-8")
    st = shutil.which("st") or str(Path(sys.executable).with_name("st"))
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "SCHEMATHESIS_HOOKS": "jaju_fuzz_hooks",
           "JAJU_FUZZ_KB": kb}
    r = subprocess.run(
        [st, "run", "openapi.json", "--url", live.base_url, "--checks", "not_a_server_error",
         "-H", f"Authorization: Bearer {live.admin_key}", "--max-examples", "15", "--seed", "20261129",
         "--generation-deterministic", "--workers", "1", "--request-timeout", "120"],
        capture_output=True, text=True, timeout=900, cwd=tmp_path, env=env)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
