"""AuditLog: appends events to a hash chain in the store, in signed group commits.

Callers hand events to a queue. One writer thread per process drains it in batches: each batch is one
transaction that takes the store's write lock (PostgreSQL advisory lock, SQLite's single writer),
checks that the chain's head is the one its newest checkpoint signed, links the new events, signs the
new head (Ed25519) and commits (`jaju.audit.commit`). Then the checkpoint goes to the witness, if one
is configured, and only then are the batch's callers told. So an event whose `record()` returned is on
disk, covered by a signature, and witnessed. Several jaju processes on one PostgreSQL database extend
one chain without forking it.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import os
import queue
import sqlite3
import threading
from concurrent.futures import Future
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from jaju.audit.commit import APPEND_LOCK, ChainWriter, Committed
from jaju.audit.errors import AuditTailUnsigned, AuditUnavailable
from jaju.audit.events import Event
from jaju.audit.keys import DeploymentKey
from jaju.audit.witness import FileWitness, Witness
from jaju.errors import ConfigError
from jaju.settings import AuditSettings
from jaju.store import Database
from jaju.store.tables import AuditEvent

log = logging.getLogger("jaju.audit")

# A queue item: an event (None: a flush marker) and who waits for it (None: nobody).
_Sink = Future | asyncio.Future | None


class AuditLog:
    """Tamper-evident, append-only event log; every committed batch carries a signed checkpoint."""

    def __init__(self, db: Database, key: DeploymentKey, settings: AuditSettings, hmac_secret: bytes,
                 witness: Witness | None = None):
        self.db = db
        self.key = key
        self.settings = settings
        self._secret = hmac_secret
        if witness is None and settings.witness_path is not None:
            witness = FileWitness(settings.witness_path)
            witness.open()  # a witness path that cannot be used stops start-up, not the first request
        self.witness = witness
        self._writer = ChainWriter(db, key, settings.ack_timeout_seconds)
        self._queue: queue.SimpleQueue[tuple[Event | None, _Sink] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._sync_lock = threading.Lock()  # without the thread, callers commit one at a time
        self.appended = 0
        self.failures = 0

    # --- public API -------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="jaju-audit", daemon=True)
            self._thread.start()

    async def record(self, event: Event) -> int:
        """Append and wait until the event is committed, signed and witnessed; returns its sequence number.

        Concurrent callers share one transaction (group commit). Raises AuditUnavailable (HTTP 503) when
        the store or the witness does not take the event within `[audit] ack_timeout_seconds`.
        """
        if self._thread is None:
            return await asyncio.to_thread(self.append_now, event)
        if not self._thread.is_alive():
            raise AuditUnavailable("The audit writer has stopped; no event can be recorded.")
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        # A plain timer on the future: cheaper than asyncio.timeout(), which cancels and rewinds the task.
        timer = loop.call_later(self.settings.ack_timeout_seconds, _expire, fut, self.settings.ack_timeout_seconds)
        self._queue.put((event, fut))
        try:
            return await fut
        finally:
            timer.cancel()

    def append(self, event: Event) -> None:
        """Queue an event without waiting (events no response depends on); failures are logged and counted."""
        if self._thread is None:
            try:
                self.append_now(event)
            except AuditUnavailable as e:
                self.failures += 1
                log.error("audit event %s not recorded: %s", event.action, e)
            return
        self._queue.put((event, None))

    def append_now(self, event: Event) -> int:
        """Append and block until the event is committed, signed and witnessed; returns its sequence number."""
        if self._thread is None:
            with self._sync_lock:
                result = self._commit([event]).results[0]
            if isinstance(result, Exception):
                raise result
            return result
        fut: Future = Future()
        self._queue.put((event, fut))
        try:
            return fut.result(timeout=self.settings.ack_timeout_seconds)
        except TimeoutError:
            raise AuditUnavailable(f"The audit store did not confirm the event within "
                                   f"{self.settings.ack_timeout_seconds:g} s.") from None

    def flush(self) -> None:
        """Wait until everything queued so far is committed (or has failed)."""
        if self._thread is not None:
            fut: Future = Future()
            self._queue.put((None, fut))  # a marker: resolved after every item before it is written
            fut.result(timeout=60)

    def checkpoint(self, *, accept_unsigned_tail: bool = False) -> int | None:
        """Confirm the chain's head is signed; returns its sequence number (None when the log is empty).

        Every batch is signed when it commits, so this writes nothing on a healthy store. A head that no
        valid checkpoint covers (left by an older jaju that crashed, or forged) raises AuditTailUnsigned;
        with `accept_unsigned_tail` an `audit.tail.accepted` event naming the range is appended and
        signed instead, so the operator's decision is itself on the record.
        """
        self.flush()
        head = self._writer.read_head()
        problem = self._writer.tail_problem(head)
        if problem is None:
            return head.seq or None
        if not accept_unsigned_tail:
            raise AuditTailUnsigned(f"The audit trail's tail is not signed: {problem} Run `jaju audit verify`; "
                                    "if the events are genuine, `jaju audit checkpoint --accept-unsigned-tail`.")
        signed = head.checkpoint.seq if head.checkpoint else 0
        event = Event(action="audit.tail.accepted",
                      fields={"signed_through": signed, "through_seq": head.seq, "key_of_process": self.key.key_id})
        with self._sync_lock:
            result = self._commit([event], accept_unsigned_tail=True).results[0]
        if isinstance(result, Exception):
            raise result
        log.warning("audit: unsigned tail accepted by the operator: %s", problem)
        return result

    def close(self) -> None:
        """Drain the queue and stop the writer; writes no checkpoint of its own (every batch has one)."""
        if self._thread is not None:
            self.flush()
            self._queue.put(None)
            self._thread.join(timeout=30)
            self._thread = None
        if self.witness is not None:
            self.witness.close()

    def redact_before(self, tenant_id: str, before: datetime) -> int:
        """Log retention: drop the bodies of a tenant's events older than `before`, keeping their hashes.

        The chain still verifies (links use the stored leaf hashes), and an `audit.redacted` event names
        the tenant and the last redacted sequence number, so `verify` can tell retention from deletion.
        """
        self.flush()
        with self.db.immediate() as s:
            self.db.lock_for_write(s, APPEND_LOCK)
            through = s.execute(select(func.max(AuditEvent.seq)).where(
                AuditEvent.tenant_id == tenant_id, AuditEvent.ts < before, AuditEvent.body != "")).scalar()
            if through is None:
                return 0
            result = s.execute(update(AuditEvent).where(
                AuditEvent.tenant_id == tenant_id, AuditEvent.seq <= through, AuditEvent.body != "")
                .values(body=""))
            count = result.rowcount or 0
        self.append_now(Event(action="audit.redacted", tenant_id=tenant_id,
                              fields={"through_seq": through, "count": count, "before": before.isoformat()}))
        return count

    def hmac(self, tenant_id: str | None, text: str | bytes) -> str:
        """Keyed digest of content for the trail: proves what was said without keeping it."""
        key = hmac.new(self._secret, (tenant_id or "-").encode(), hashlib.sha256).digest()
        data = text.encode("utf-8") if isinstance(text, str) else text
        return hmac.new(key, data, hashlib.sha256).hexdigest()

    @property
    def queue_depth(self) -> int:
        return self._queue.qsize()

    # --- writer -----------------------------------------------------------------------------
    def _commit(self, events: list[Event], *, accept_unsigned_tail: bool = False) -> Committed:
        """One group commit plus its witness copy; any failure becomes AuditUnavailable."""
        try:
            done = self._writer.commit(events, accept_unsigned_tail=accept_unsigned_tail)
        except AuditUnavailable:
            raise
        except (SQLAlchemyError, sqlite3.Error) as e:  # sqlite3's own: SQLite commits on its driver
            raise AuditUnavailable(f"The audit store cannot record events ({_reason(e)}).") from e
        if done.checkpoint is not None and self.witness is not None:
            try:
                self.witness.append(done.checkpoint)
            except (OSError, ConfigError) as e:
                # The events are in the store and signed, but their callers are told no: the response they
                # would acknowledge is refused rather than left unwitnessed.
                raise AuditUnavailable(f"The audit witness did not take checkpoint {done.checkpoint.seq} "
                                       f"({e}).") from e
        self.appended += sum(1 for r in done.results if not isinstance(r, Exception))
        return done

    def _run(self) -> None:
        stop = False
        while not stop:
            batch = [self._queue.get()]
            while len(batch) < self.settings.flush_max_batch:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            stop = None in batch
            items = [b for b in batch if b is not None and b[0] is not None]
            settled: list[tuple[_Sink, int | None, BaseException | None]] = []
            if items:
                settled = self._write_batch(items)
            settled += [(b[1], None, None) for b in batch if b is not None and b[0] is None]
            _settle_all(settled)

    def _write_batch(self, items: list[tuple[Event, _Sink]]) -> list[tuple[_Sink, int | None, BaseException | None]]:
        try:
            done = self._commit([event for event, _ in items])
        except AuditUnavailable as e:
            self.failures += len(items)
            log.error("audit: %d events not recorded: %s", len(items), e)
            return [(sink, None, e) for _, sink in items]
        except Exception as e:  # a bug here must fail the waiters, not kill the writer thread
            self.failures += len(items)
            log.exception("audit: %d events not recorded", len(items))
            err = AuditUnavailable(f"The audit writer failed ({type(e).__name__}).")
            return [(sink, None, err) for _, sink in items]
        out: list[tuple[_Sink, int | None, BaseException | None]] = []
        for (event, sink), result in zip(items, done.results):
            if isinstance(result, Exception):
                self.failures += 1
                log.error("audit event %s rejected: %s", event.action, result)
                out.append((sink, None, result))
            else:
                out.append((sink, result, None))
        return out


def _settle_all(settled: list[tuple[_Sink, int | None, BaseException | None]]) -> None:
    """Resolve waiters: thread futures directly, asyncio futures with one wake-up per event loop."""
    by_loop: dict[asyncio.AbstractEventLoop, list] = {}
    for sink, value, error in settled:
        if sink is None:
            continue
        if isinstance(sink, asyncio.Future):
            by_loop.setdefault(sink.get_loop(), []).append((sink, value, error))
        elif error is not None:
            sink.set_exception(error)
        else:
            sink.set_result(value)
    for loop, group in by_loop.items():
        try:
            loop.call_soon_threadsafe(_settle_in_loop, group)
        except RuntimeError:  # the caller's loop has closed; nobody is left to tell
            log.debug("audit: %d waiters' event loop closed before their batch committed", len(group))


def _expire(fut: asyncio.Future, seconds: float) -> None:
    if not fut.done():
        fut.set_exception(AuditUnavailable(f"The audit store did not confirm the event within {seconds:g} s."))


def _settle_in_loop(group: list[tuple[asyncio.Future, int | None, BaseException | None]]) -> None:
    for fut, value, error in group:
        if fut.done():  # timed out or cancelled meanwhile
            continue
        if error is not None:
            fut.set_exception(error)
        else:
            fut.set_result(value)


def _reason(e: SQLAlchemyError | sqlite3.Error) -> str:
    """The driver's own first line, without the SQL or its parameters."""
    orig = e.orig if isinstance(e, DBAPIError) and e.orig is not None else e
    first = str(orig).strip().splitlines()[0] if str(orig).strip() else ""
    return f"{type(orig).__name__}: {first}" if first else type(orig).__name__


def load_hmac_secret(path: Path) -> bytes:
    """The audit HMAC secret (32 random bytes), created on first run next to the deployment key."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_bytes()
        with os.fdopen(fd, "wb") as f:
            f.write(os.urandom(32))
    return path.read_bytes()
