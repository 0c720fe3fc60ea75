"""A batch run by the workers of a live `jaju serve --workers 2`, with the official client: the
background worker starts with the app, both worker processes share the one queue, and every line's
result lands once."""

from __future__ import annotations

import dataclasses
import json
import time

import openai
import pytest

from jaju.services import Services
from tests.cli.test_serve_workers import Server

WIRED = "batches" in {f.name for f in dataclasses.fields(Services)}
pytestmark = [pytest.mark.engine,
              pytest.mark.skipif(not WIRED, reason="BatchWorker is not wired into build_services/create_app yet")]


@pytest.fixture(scope="module")
def server(tmp_path_factory, qwen_gguf):
    s = Server(tmp_path_factory.mktemp("batch-serve"), qwen_gguf)
    yield s
    s.stop()


def test_jaju_serve_runs_a_batch_in_the_background(server):
    client = openai.OpenAI(api_key=server.admin, base_url=server.base + "/v1", max_retries=0)
    texts = ["서울은 한국의 수도입니다", "부산은 항구 도시입니다", "제주도는 섬입니다", "대전은 과학 도시입니다"]
    lines = [json.dumps({"custom_id": f"문장-{i}", "method": "POST", "url": "/v1/embeddings",
                         "body": {"model": "multilingual-e5-small", "input": t}}, ensure_ascii=False)
             for i, t in enumerate(texts)]
    lines.append(json.dumps({"custom_id": "질문", "method": "POST", "url": "/v1/embeddings",
                             "body": {"model": "multilingual-e5-small", "input": ""}}))  # refused: empty input
    f = client.files.create(file=("문장들.jsonl", ("\n".join(lines) + "\n").encode("utf-8")), purpose="batch")
    batch = client.batches.create(input_file_id=f.id, endpoint="/v1/embeddings", completion_window="24h")

    deadline = time.monotonic() + 300  # a bound on waiting, not an assertion about speed
    while batch.status not in ("completed", "failed", "cancelled", "expired") and time.monotonic() < deadline:
        time.sleep(0.5)
        batch = client.batches.retrieve(batch.id)
    assert batch.status == "completed", server.log.read_text()[-3000:]
    assert (batch.request_counts.total, batch.request_counts.completed, batch.request_counts.failed) == (5, 4, 1)
    out = [json.loads(s) for s in client.files.content(batch.output_file_id).text.splitlines()]
    assert sorted(o["custom_id"] for o in out) == [f"문장-{i}" for i in range(4)]
    assert all(len(o["response"]["body"]["data"][0]["embedding"]) == 384 for o in out)
    [err] = [json.loads(s) for s in client.files.content(batch.error_file_id).text.splitlines()]
    assert err["custom_id"] == "질문" and err["response"]["status_code"] == 400
