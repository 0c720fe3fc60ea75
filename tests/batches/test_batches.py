"""/v1/batches end to end with the official openai client, the real engine and the background worker."""

from __future__ import annotations

import json
from datetime import timedelta

import openai
import pytest

from jaju.batches.tables import BatchLine
from jaju.batches.worker import BatchWorker
from jaju.store.base import utcnow
from tests.batches.conftest import drain

pytestmark = pytest.mark.anyio
MODEL = "qwen2.5-coder-0.5b-instruct"
CHAT = "/v1/chat/completions"
EMB = "/v1/embeddings"


def line(custom_id: str, content: str, url: str = CHAT, **body) -> str:
    body = {"model": MODEL, "messages": [{"role": "user", "content": content}], "max_tokens": 8,
            "temperature": 0, **body}
    return json.dumps({"custom_id": custom_id, "method": "POST", "url": url, "body": body}, ensure_ascii=False)


def emb_line(custom_id: str, text: str) -> str:
    """An embeddings request: the cheapest real engine call, for tests about the queue rather than chat."""
    return json.dumps({"custom_id": custom_id, "method": "POST", "url": EMB,
                       "body": {"model": "multilingual-e5-small", "input": text}}, ensure_ascii=False)


def jsonl(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode("utf-8")


async def upload(client, data: bytes) -> str:
    return (await client.files.create(file=("배치.jsonl", data), purpose="batch")).id


async def lines_of(client, file_id: str | None) -> list[dict]:
    if file_id is None:
        return []
    text = (await client.files.content(file_id)).content.decode("utf-8")
    return [json.loads(s) for s in text.splitlines() if s]


@pytest.mark.engine
async def test_batch_runs_and_failing_lines_land_in_the_error_file(client, worker):
    data = jsonl(
        line("수도", "대한민국의 수도는 어디인가요? 한 단어로 답하세요."),
        '{"custom_id": "깨진줄", "method": "POST", "url": ',                        # not JSON
        line("수도", "일본의 수도는 어디인가요?"),                                    # custom_id used before
        line("주소틀림", "안녕하세요", url="/v1/embeddings"),                         # not the batch's endpoint
        json.dumps({"custom_id": "본문틀림", "method": "POST", "url": CHAT,
                    "body": {"model": MODEL}}, ensure_ascii=False),                 # no messages
        line("없는모델", "안녕하세요", model="없는-모델"),                              # fails when it runs: 404
        line("인사", "'감사합니다'를 영어로 한 단어로 번역하세요."),
    )
    batch = await client.batches.create(input_file_id=await upload(client, data), endpoint=CHAT,
                                        completion_window="24h", metadata={"부서": "민원실"})
    assert batch.status == "in_progress" and batch.metadata == {"부서": "민원실"}
    assert batch.request_counts.total == 7 and batch.request_counts.failed == 4  # refused at creation

    assert await drain(worker) >= 4  # three lines ran, one batch finalised
    done = await client.batches.retrieve(batch.id)
    assert done.status == "completed" and done.completed_at and done.finalizing_at
    assert (done.request_counts.total, done.request_counts.completed, done.request_counts.failed) == (7, 2, 5)

    out = await lines_of(client, done.output_file_id)
    assert [o["custom_id"] for o in out] == ["수도", "인사"]
    for o in out:
        assert o["error"] is None and o["id"].startswith("batch_req_")
        assert o["response"]["status_code"] == 200 and o["response"]["request_id"].startswith("chatcmpl-")
        assert o["response"]["body"]["choices"][0]["message"]["content"]
        assert o["response"]["body"]["jaju"]["provenance"]  # labelled like any API answer
    assert "서울" in out[0]["response"]["body"]["choices"][0]["message"]["content"]

    errors = {(e["custom_id"], (e["error"] or {}).get("code"), (e["response"] or {}).get("status_code"))
              for e in await lines_of(client, done.error_file_id)}
    assert errors == {(None, "invalid_json", None), ("수도", "duplicate_custom_id", None),
                      ("주소틀림", "invalid_url", None), ("본문틀림", None, 400), ("없는모델", None, 404)}
    assert (await client.files.retrieve(done.output_file_id)).purpose == "batch_output"


@pytest.mark.engine
async def test_embeddings_batch(client, worker):
    data = jsonl(emb_line("e0", "서울은 한국의 수도입니다"), emb_line("e1", "부산은 항구 도시입니다"))
    batch = await client.batches.create(input_file_id=await upload(client, data), endpoint=EMB,
                                        completion_window="24h")
    await drain(worker)
    done = await client.batches.retrieve(batch.id)
    assert done.status == "completed" and done.error_file_id is None
    out = await lines_of(client, done.output_file_id)
    assert [len(o["response"]["body"]["data"][0]["embedding"]) for o in out] == [384, 384]


@pytest.mark.engine
async def test_cancel_keeps_what_ran_and_drops_the_rest(client, batch_services):
    one_at_a_time = BatchWorker(batch_services, batch_services.batches, lines_per_step=1)
    data = jsonl(*(emb_line(f"c{i}", f"{i}번째 문장입니다") for i in range(3)))
    batch = await client.batches.create(input_file_id=await upload(client, data), endpoint=EMB,
                                        completion_window="24h")
    assert await one_at_a_time.step() == 1
    cancelling = await client.batches.cancel(batch.id)
    assert cancelling.status == "cancelling" and cancelling.cancelling_at
    await drain(one_at_a_time)
    done = await client.batches.retrieve(batch.id)
    assert done.status == "cancelled" and done.cancelled_at
    assert (done.request_counts.total, done.request_counts.completed) == (3, 1)
    assert [o["custom_id"] for o in await lines_of(client, done.output_file_id)] == ["c0"]
    with pytest.raises(openai.ConflictError):
        await client.batches.cancel(batch.id)


@pytest.mark.engine
async def test_a_line_of_a_dead_worker_runs_again_exactly_once(client, batch_services):
    dead = BatchWorker(batch_services, batch_services.batches, owner="dead-worker", lease_seconds=60)
    batch = await client.batches.create(input_file_id=await upload(client, jsonl(emb_line("유령", "안녕하세요"))),
                                        endpoint=EMB, completion_window="24h")
    queue = dead.queues()[0]
    claim = queue.claim()  # ... and the worker dies before it answers
    assert claim is not None and claim.batch_id == batch.id
    later = BatchWorker(batch_services, batch_services.batches, owner="survivor", lease_seconds=60,
                        clock=lambda: utcnow() + timedelta(seconds=61))
    assert await drain(later) == 2  # the line, run again, and the batch finalised
    assert queue.complete(claim.line_id, b"late", False) is False  # the dead worker's late answer is dropped
    done = await client.batches.retrieve(batch.id)
    assert done.status == "completed" and done.request_counts.completed == 1
    assert [o["custom_id"] for o in await lines_of(client, done.output_file_id)] == ["유령"]
    with queue.db.sessions() as s:
        assert s.get(BatchLine, claim.line_id).attempts == 2


async def test_another_tenants_batch_is_not_found(client, other):
    file_id = await upload(client, jsonl(line("남의것", "안녕하세요")))
    batch = await client.batches.create(input_file_id=file_id, endpoint=CHAT, completion_window="24h")
    for call in (other.batches.retrieve(batch.id), other.batches.cancel(batch.id),
                 other.batches.create(input_file_id=file_id, endpoint=CHAT, completion_window="24h")):
        with pytest.raises(openai.NotFoundError):
            await call
    assert batch.id not in [b.id async for b in other.batches.list()]
    assert batch.id in [b.id async for b in client.batches.list()]
    assert (await client.batches.cancel(batch.id)).status == "cancelling"


@pytest.mark.parametrize("change, code", [
    ({"endpoint": "/v1/responses"}, "invalid_endpoint"),
    ({"completion_window": "48h"}, "invalid_completion_window"),
])
async def test_bad_parameters_are_400(client, change, code):
    file_id = await upload(client, jsonl(line("a", "안녕하세요")))
    with pytest.raises(openai.BadRequestError) as e:
        await client.batches.create(**{"input_file_id": file_id, "endpoint": CHAT, "completion_window": "24h",
                                       **change})
    assert e.value.body["code"] == code


async def test_too_many_lines_or_too_large_a_file_is_400(client, batch_services, monkeypatch):
    file_id = await upload(client, jsonl(*(line(f"n{i}", "안녕하세요") for i in range(3))))
    monkeypatch.setattr(batch_services.batches, "max_lines", 2)
    with pytest.raises(openai.BadRequestError) as e:
        await client.batches.create(input_file_id=file_id, endpoint=CHAT, completion_window="24h")
    assert e.value.body["code"] == "too_many_requests"
    monkeypatch.setattr(batch_services.batches, "max_lines", 100)
    monkeypatch.setattr(batch_services.batches, "max_input_bytes", 64)
    with pytest.raises(openai.BadRequestError) as e:
        await client.batches.create(input_file_id=file_id, endpoint=CHAT, completion_window="24h")
    assert e.value.body["code"] == "input_file_too_large"
    assert not [b for b in (await client.batches.list(limit=100)).data if b.input_file_id == file_id]
