"""BatchWorker: claims batch lines from the shared queue and runs them, below interactive traffic.

Priority, exactly: each worker runs one line at a time (concurrency 1 per `jaju serve` worker process),
and before it starts a line it checks the embedded engine; while any loaded model has requests waiting
for a slot (`scheduler.queue_depth > 0`, or the engine process's stats in multi-worker mode) it starts
nothing and waits. A line that has started is not pre-empted: it holds one sequence slot like any
request until it ends. So interactive requests wait for at most the lines already running (one per
worker process), never for the batch queue behind them.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import socket
from collections.abc import Callable
from datetime import datetime, timedelta

from jaju.batches import jsonl
from jaju.batches.queue import Claim, LineQueue
from jaju.batches.run import principal_for, run_line
from jaju.batches.service import BatchService, line_aad
from jaju.batches.tables import Batch
from jaju.errors import ServiceError
from jaju.store.base import utcnow

log = logging.getLogger("jaju.batches")


class BatchWorker:
    """`step()` does some work and says how much; `run_forever()` repeats it until `stop()`."""

    def __init__(self, services, batches: BatchService, *, owner: str | None = None, lease_seconds: float = 300.0,
                 lines_per_step: int = 4, idle_seconds: float = 1.0, max_idle_seconds: float = 4.0,
                 clock: Callable[[], datetime] = utcnow):
        self.services = services
        self.batches = batches
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.lease = timedelta(seconds=lease_seconds)
        self.lines_per_step = lines_per_step
        self.idle_seconds = idle_seconds
        self.max_idle_seconds = max(idle_seconds, max_idle_seconds)
        self.clock = clock
        self._stopped = asyncio.Event()

    def queues(self) -> list[LineQueue]:
        return [LineQueue(db, self.owner, self.lease, self.clock) for db in self.services.stores.all()]

    async def step(self) -> int:
        """Run up to `lines_per_step` lines (one at a time) and finalise batches that are done.

        Returns how many lines ran plus how many batches were finalised; 0 means there was nothing to do
        (or the engine had interactive requests waiting).
        """
        done = 0
        # One light read per store while no batch is open (nearly always): no claim, no finalising
        # query and no question to the engine process every idle second in every worker.
        queues = await asyncio.to_thread(lambda: [q for q in self.queues() if q.has_open()])
        for queue in queues:
            while done < self.lines_per_step:
                if await self.engine_busy():
                    return done
                claim = await asyncio.to_thread(queue.claim)
                if claim is None:
                    break
                await self._run(queue, claim)
                done += 1
            for batch_id in await asyncio.to_thread(queue.ready):
                done += await self._finalize(queue, batch_id)
        return done

    async def run_forever(self) -> None:
        """Work until stopped. A step that found nothing to do is followed by a pause of `idle_seconds`,
        doubled after each further idle step up to `max_idle_seconds` (an idle server polls its stores
        rarely; a new batch waits at most that long for its first line, within its 24-hour window)."""
        pause = self.idle_seconds
        while not self._stopped.is_set():
            try:
                worked = await self.step()
            except ServiceError as e:  # a store that is down: try again after a pause
                log.warning("batch worker step failed: %s", e.message)
                worked = 0
            if worked:
                pause = self.idle_seconds
                continue
            try:
                await asyncio.wait_for(self._stopped.wait(), pause)
            except TimeoutError:
                pass
            pause = min(pause * 2, self.max_idle_seconds)

    def stop(self) -> None:
        self._stopped.set()

    # --- priority ---------------------------------------------------------------------------------
    async def engine_busy(self) -> bool:
        """Whether interactive requests are waiting for the embedded engine."""
        for backend in self.services.models.loaded().values():
            scheduler = getattr(backend, "scheduler", None)
            if scheduler is not None and scheduler.queue_depth > 0:
                return True
            conn = getattr(backend, "conn", None)  # the engine process (jaju serve --workers N)
            if scheduler is None and conn is not None:
                stats = await conn.call("stats")
                return any(s.get("queue_depth", 0) > 0 for s in stats.values())
        return False

    # --- one line -----------------------------------------------------------------------------------
    async def _run(self, queue: LineQueue, claim: Claim) -> None:
        keeper = asyncio.create_task(self._keep_lease(queue, claim.line_id))
        try:
            output, is_error = await self._output(queue, claim)
        finally:
            keeper.cancel()
        blob = await asyncio.to_thread(self.services.keyring.encrypt, claim.tenant_id,
                                       json.dumps(output, ensure_ascii=False).encode("utf-8"),
                                       aad=line_aad(claim.batch_id, claim.line_no, "result"))
        if not await asyncio.to_thread(queue.complete, claim.line_id, blob, is_error):
            log.warning("batch %s line %d was taken over by another worker; its result stands",
                        claim.batch_id, claim.line_no)

    async def _output(self, queue: LineQueue, claim: Claim) -> tuple[dict, bool]:
        request = json.loads(await asyncio.to_thread(self.services.keyring.decrypt, claim.tenant_id, claim.body,
                                                     aad=line_aad(claim.batch_id, claim.line_no, "body")))
        cid = request["custom_id"]
        batch = await asyncio.to_thread(_batch, queue, claim.batch_id)
        try:
            principal = await asyncio.to_thread(principal_for, self.services, batch.tenant_id, batch.key_id)
            return await run_line(self.services, principal, batch.endpoint, cid, request["body"])
        except ServiceError as e:
            return jsonl.response_line(cid, e.status, None, e.body()), True
        except Exception:  # a bug must not stall the queue: the line fails once, with a 500, and is logged
            log.exception("batch %s line %d failed unexpectedly", claim.batch_id, claim.line_no)
            return jsonl.response_line(cid, 500, None, {"error": {
                "message": "Internal error; the operator's log has the details.", "type": "api_error",
                "param": None, "code": "internal_error"}}), True

    async def _keep_lease(self, queue: LineQueue, line_id: int) -> None:
        while True:
            await asyncio.sleep(self.lease.total_seconds() / 3)
            if not await asyncio.to_thread(queue.renew, line_id):
                return

    # --- finalising ---------------------------------------------------------------------------------
    async def _finalize(self, queue: LineQueue, batch_id: str) -> int:
        visible = await asyncio.to_thread(queue.claim_finalize, batch_id)
        if visible is None:
            return 0
        return 1 if await asyncio.to_thread(self._write_files, queue, batch_id, visible) else 0

    def _write_files(self, queue: LineQueue, batch_id: str, visible: str) -> bool:
        keyring = self.services.keyring
        tenant_id = _batch(queue, batch_id).tenant_id
        out, err = [], []
        expired = False
        for line in queue.settled(batch_id):
            if line.status == "done":
                text = keyring.decrypt(tenant_id, line.result, aad=line_aad(batch_id, line.line_no, "result"))
                (err if line.is_error else out).append(text.decode("utf-8"))
            elif line.status == "expired":
                expired = True
                request = json.loads(keyring.decrypt(tenant_id, line.body,
                                                     aad=line_aad(batch_id, line.line_no, "body")))
                err.append(json.dumps(jsonl.error_line(request["custom_id"], "batch_expired",
                                                       "This request could not be executed before the completion "
                                                       "window expired."), ensure_ascii=False))
        files, ids = [], {}
        for kind, lines in (("output", out), ("error", err)):
            if lines:
                row = self.batches.files.new_row(tenant_id, f"{batch_id}_{kind}.jsonl", "batch_output",
                                                 ("\n".join(lines) + "\n").encode("utf-8"))
                files.append(row)
                ids[kind] = row.id
        status = "cancelled" if visible == "cancelling" else "expired" if expired else "completed"
        return queue.finish(batch_id, status, files, ids.get("output"), ids.get("error"))


def _batch(queue: LineQueue, batch_id: str) -> Batch:
    with queue.db.sessions() as s:
        return s.get(Batch, batch_id)
