"""AuditLog: appends events to a hash chain in the store, in batches, off the request path.

Requests hand events to a queue and move on. One writer thread per process drains the queue in batches:
each batch is one transaction that takes the store's write lock (PostgreSQL advisory lock, SQLite's
single writer), reads the chain's tail, links the new events and commits (group commit). Several jaju
processes on one PostgreSQL database therefore extend one chain without forking it. Signed checkpoints
are written every N events or T seconds, whichever comes first.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import queue
import threading
import time
from concurrent.futures import Future
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, insert, select, update

from jaju.audit.chain import GENESIS, checkpoint_message, leaf_hash, link
from jaju.audit.events import Event, canonical
from jaju.audit.keys import DeploymentKey
from jaju.settings import AuditSettings
from jaju.store import Database
from jaju.store.base import utcnow
from jaju.store.tables import AuditCheckpoint, AuditEvent

log = logging.getLogger("jaju.audit")
_APPEND_LOCK = 0x61756474  # "audt": one chain writer at a time across processes


class AuditLog:
    """Tamper-evident, append-only event log with signed checkpoints."""

    def __init__(self, db: Database, key: DeploymentKey, settings: AuditSettings, hmac_secret: bytes):
        self.db = db
        self.key = key
        self.settings = settings
        self._secret = hmac_secret
        self._queue: queue.Queue[tuple[Event | None, Future | None] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._last_checkpoint_at = time.monotonic()
        self.appended = 0
        self.failures = 0

    # --- public API -------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="jaju-audit", daemon=True)
            self._thread.start()

    def append(self, event: Event) -> None:
        """Queue an event; it becomes durable within one batch interval."""
        if self._thread is None:
            self._write([(event, None)])
            return
        self._queue.put((event, None))

    def append_now(self, event: Event) -> int:
        """Append and wait until the event is committed; returns its sequence number."""
        if self._thread is None:
            return self._write([(event, None)])[0]
        fut: Future = Future()
        self._queue.put((event, fut))
        return fut.result(timeout=60)

    def flush(self) -> None:
        """Wait until everything queued so far is committed."""
        if self._thread is not None:
            fut: Future = Future()
            self._queue.put((None, fut))  # a marker: resolved after every item before it is written
            fut.result(timeout=60)

    def checkpoint(self) -> int | None:
        """Sign the current tail now; returns its sequence number (None when the log is empty)."""
        self.flush()
        with self.db.immediate() as s:
            self.db.lock_for_write(s, _APPEND_LOCK)
            return self._checkpoint_tail(s)

    def close(self) -> None:
        if self._thread is not None:
            self.flush()
            self._queue.put(None)
            self._thread.join(timeout=30)
            self._thread = None
        self.checkpoint()

    def redact_before(self, tenant_id: str, before: datetime) -> int:
        """Log retention: drop the bodies of a tenant's events older than `before`, keeping their hashes.

        The chain still verifies (links use the stored leaf hashes), and an `audit.redacted` event names
        the tenant and the last redacted sequence number, so `verify` can tell retention from deletion.
        """
        self.flush()
        with self.db.immediate() as s:
            self.db.lock_for_write(s, _APPEND_LOCK)
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
    def _run(self) -> None:
        stop = False
        while not stop:
            try:
                first = self._queue.get(timeout=min(1.0, self.settings.checkpoint_every_seconds))
            except queue.Empty:
                self._maybe_timed_checkpoint()
                continue
            batch = [first]
            while len(batch) < self.settings.flush_max_batch:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            if None in batch:
                stop = True
            items = [b for b in batch if b is not None and b[0] is not None]
            waiters = [b[1] for b in batch if b is not None and b[0] is None and b[1] is not None]
            if items:
                try:
                    seqs = self._write(items)
                except Exception as e:  # the request already returned; never lose the error silently
                    self.failures += len(items)
                    log.error("audit append failed for %d events: %s", len(items), e)
                    for _, fut in items:
                        if fut is not None:
                            fut.set_exception(e)
                else:
                    for (_, fut), seq in zip(items, seqs):
                        if fut is not None:
                            fut.set_result(seq)
            for fut in waiters:
                fut.set_result(None)
            self._maybe_timed_checkpoint()

    def _write(self, items: list[tuple[Event, Future | None]]) -> list[int]:
        with self.db.immediate() as s:
            self.db.lock_for_write(s, _APPEND_LOCK)
            row = s.execute(select(AuditEvent.seq, AuditEvent.chain_hash)
                            .order_by(AuditEvent.seq.desc()).limit(1)).first()
            seq, chain = (row[0], row[1]) if row else (0, GENESIS)
            rows, seqs = [], []
            for event, _ in items:
                seq += 1
                record = event.to_record()
                record["seq"] = seq
                body = canonical(record)
                leaf = leaf_hash(body)
                chain = link(chain, leaf)
                rows.append({"seq": seq, "ts": event.ts, "tenant_id": event.tenant_id, "action": event.action,
                             "body": body.decode("utf-8"), "leaf_hash": leaf, "chain_hash": chain})
                seqs.append(seq)
            s.execute(insert(AuditEvent), rows)
            last_cp = s.execute(select(AuditCheckpoint.seq).order_by(AuditCheckpoint.seq.desc()).limit(1)).scalar()
            if seq - (last_cp or 0) >= self.settings.checkpoint_every_events:
                self._sign(s, seq, chain)
        self.appended += len(seqs)
        return seqs

    def _maybe_timed_checkpoint(self) -> None:
        if time.monotonic() - self._last_checkpoint_at < self.settings.checkpoint_every_seconds:
            return
        self._last_checkpoint_at = time.monotonic()
        try:
            with self.db.immediate() as s:
                self.db.lock_for_write(s, _APPEND_LOCK)
                self._checkpoint_tail(s)
        except Exception as e:  # a failed timed checkpoint is retried next interval; say so
            log.error("audit checkpoint failed: %s", e)

    def _checkpoint_tail(self, s) -> int | None:
        row = s.execute(select(AuditEvent.seq, AuditEvent.chain_hash)
                        .order_by(AuditEvent.seq.desc()).limit(1)).first()
        if row is None:
            return None
        last_cp = s.execute(select(AuditCheckpoint.seq).order_by(AuditCheckpoint.seq.desc()).limit(1)).scalar()
        if last_cp is None or last_cp < row[0]:
            self._sign(s, row[0], row[1])
        return row[0]

    def _sign(self, s, seq: int, chain: str) -> None:
        ts = utcnow()
        ts_s = ts.isoformat(timespec="microseconds")
        sig = self.key.sign(checkpoint_message(seq, chain, ts_s, self.key.key_id))
        s.execute(insert(AuditCheckpoint), [{"seq": seq, "ts": ts, "chain_hash": chain,
                                             "key_id": self.key.key_id, "signature": sig}])
        self._last_checkpoint_at = time.monotonic()


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

