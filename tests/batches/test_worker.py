"""The batch worker's rules: it yields to queued interactive requests, runs lines as the batch's key
(revocation stops them), expires lines past the window, and stops when told; retention removes batches."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import openai
import pytest
from sqlalchemy import select

from jaju.batches.retention import BatchRetention
from jaju.batches.tables import BatchLine
from jaju.batches.worker import BatchWorker
from jaju.store.base import utcnow
from tests.batches.conftest import _client, drain
from tests.batches.test_batches import CHAT, jsonl, line, lines_of, upload

pytestmark = pytest.mark.anyio


async def test_the_worker_waits_while_interactive_requests_are_queued(client, worker, batch_services, monkeypatch):
    batch = await client.batches.create(input_file_id=await upload(client, jsonl(line("대기", "안녕하세요"))),
                                        endpoint=CHAT, completion_window="24h")
    scheduler = next(b.scheduler for b in batch_services.models.loaded().values()
                     if getattr(b, "scheduler", None) is not None)
    monkeypatch.setattr(type(scheduler), "queue_depth", property(lambda s: 2))  # two requests waiting
    assert await worker.engine_busy()
    assert await worker.step() == 0
    assert (await client.batches.retrieve(batch.id)).request_counts.completed == 0
    await client.batches.cancel(batch.id)
    monkeypatch.undo()
    assert not await worker.engine_busy()
    await drain(worker)  # finalises the cancelled batch without running its line
    assert (await client.batches.retrieve(batch.id)).status == "cancelled"


async def test_lines_past_the_window_expire(client, batch_services):
    batch = await client.batches.create(input_file_id=await upload(client, jsonl(line("늦음", "안녕하세요"))),
                                        endpoint=CHAT, completion_window="24h")
    tomorrow = BatchWorker(batch_services, batch_services.batches, clock=lambda: utcnow() + timedelta(hours=25))
    assert await drain(tomorrow) == 1  # nothing ran; the batch was finalised
    done = await client.batches.retrieve(batch.id)
    assert done.status == "expired" and done.expired_at and done.output_file_id is None
    assert done.request_counts.failed == 1
    [err] = await lines_of(client, done.error_file_id)
    assert (err["custom_id"], err["error"]["code"], err["response"]) == ("늦음", "batch_expired", None)


async def test_a_revoked_key_stops_its_batch(batch_app, batch_services, worker):
    s = batch_services
    tenant_id = s.keys.authenticate(s.admin_secret).tenant_id
    key, secret = s.keys.create(tenant_id, ["inference"], name="batch-revoked")
    client, http = _client(batch_app, secret)
    try:
        batch = await client.batches.create(input_file_id=await upload(client, jsonl(line("취소된키", "안녕하세요"))),
                                            endpoint=CHAT, completion_window="24h")
        s.keys.revoke(key.id)
        await drain(worker)
        with pytest.raises(openai.AuthenticationError):
            await client.batches.retrieve(batch.id)
        c, h = _client(batch_app, s.admin_secret)  # the tenant's other key still reads it
        done = await c.batches.retrieve(batch.id)
        [err] = await lines_of(c, done.error_file_id)
        await h.aclose()
    finally:
        await http.aclose()
    assert done.status == "completed" and done.output_file_id is None
    assert err["response"]["status_code"] == 401 and err["response"]["body"]["error"]["code"] == "revoked_api_key"


async def test_retention_removes_old_batches_and_their_lines(client, batch_services):
    batch = await client.batches.create(input_file_id=await upload(client, jsonl(line("보존", "안녕하세요"))),
                                        endpoint=CHAT, completion_window="24h")
    tenant_id = batch_services.keys.authenticate(batch_services.admin_secret).tenant_id
    retention = BatchRetention(batch_services.stores)
    created = datetime.fromtimestamp(batch.created_at, UTC)
    assert retention.purge(tenant_id, created - timedelta(hours=1)) == 0  # younger than the cutoff: kept
    assert retention.purge(tenant_id, utcnow() + timedelta(seconds=1)) >= 1
    with pytest.raises(openai.NotFoundError):
        await client.batches.retrieve(batch.id)


async def test_run_forever_stops_when_told(worker):
    task = asyncio.create_task(worker.run_forever())
    await asyncio.sleep(0)
    worker.stop()
    await asyncio.wait_for(task, 30)
    assert task.done() and task.exception() is None


async def test_queued_lines_are_ciphertext_at_rest(client, batch_services):
    batch = await client.batches.create(input_file_id=await upload(client, jsonl(line("암호", "주민번호를 알려주세요"))),
                                        endpoint=CHAT, completion_window="24h")
    with batch_services.db.sessions() as s:
        [row] = s.scalars(select(BatchLine).where(BatchLine.batch_id == batch.id)).all()
    assert row.body and "주민번호".encode() not in row.body and b"custom_id" not in row.body
    await client.batches.cancel(batch.id)


async def test_an_idle_worker_reads_one_row_and_asks_the_engine_nothing(client, worker, monkeypatch):
    """With no batch open, a step is one light read per store: no claim, no finalising, no engine call."""
    await drain(worker)
    [queue] = worker.queues()
    assert not queue.has_open()

    async def engine_busy() -> bool:
        raise AssertionError("an idle step asked the engine whether it is busy")

    monkeypatch.setattr(worker, "engine_busy", engine_busy)
    assert await worker.step() == 0
    batch = await client.batches.create(input_file_id=await upload(client, jsonl(line("깨움", "안녕하세요"))),
                                        endpoint=CHAT, completion_window="24h")
    assert queue.has_open()
    await client.batches.cancel(batch.id)
    monkeypatch.undo()
    assert await drain(worker) >= 1  # the cancelled batch is finalised
    assert not queue.has_open()
    assert (await client.batches.retrieve(batch.id)).status == "cancelled"


async def test_idle_pauses_grow_to_the_ceiling_and_work_resets_them(batch_services, monkeypatch):
    worker = BatchWorker(batch_services, batch_services.batches, idle_seconds=0.01, max_idle_seconds=0.04)
    steps = iter([0, 0, 0, 0, 1, 0])
    pauses: list[float] = []

    async def step() -> int:
        n = next(steps, None)
        if n is None:
            worker.stop()
            return 0
        return n

    real_wait_for = asyncio.wait_for

    async def wait_for(aw, timeout):
        pauses.append(timeout)
        return await real_wait_for(aw, timeout)

    monkeypatch.setattr(worker, "step", step)
    monkeypatch.setattr(asyncio, "wait_for", wait_for)
    await real_wait_for(worker.run_forever(), 30)
    assert pauses[:5] == [0.01, 0.02, 0.04, 0.04, 0.01]  # doubled up to the ceiling; after work, from the start
