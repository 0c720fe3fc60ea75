"""One group commit: link a batch of events to the chain and sign its new head, in one transaction.

The events and the checkpoint over the last of them commit together, so the store never holds an
event that no signature covers; a tail without one was written by someone other than jaju. Before
extending the chain, the writer checks that its current head is exactly the one the newest checkpoint
signed: appending to a rewritten or unsigned tail would seal it with a fresh signature.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import insert, select, text
from sqlalchemy.engine import Connection, Dialect

from jaju.audit.chain import GENESIS, Checkpoint, leaf_hash, link
from jaju.audit.errors import AuditTailUnsigned
from jaju.audit.events import Event, canonical
from jaju.audit.keys import DeploymentKey, verify_signature
from jaju.store import Database
from jaju.store.base import utcnow
from jaju.store.tables import AuditCheckpoint, AuditEvent

APPEND_LOCK = 0x61756474  # "audt": one chain writer at a time across processes

# Built once: every group commit runs these, and building a statement costs more than SQLite running it.
_HEAD = select(AuditEvent.seq, AuditEvent.chain_hash).order_by(AuditEvent.seq.desc()).limit(1)
_CHECKPOINT = (select(AuditCheckpoint.seq, AuditCheckpoint.chain_hash, AuditCheckpoint.ts, AuditCheckpoint.key_id,
                      AuditCheckpoint.signature).order_by(AuditCheckpoint.seq.desc()).limit(1))
_INSERT_EVENTS = insert(AuditEvent.__table__)
_INSERT_CHECKPOINT = insert(AuditCheckpoint.__table__)

# One linked event as stored: seq, ts, tenant_id, action, body, leaf_hash, chain_hash.
Row = tuple[int, datetime, str | None, str, str, str, str]
_EVENT_COLUMNS = ("seq", "ts", "tenant_id", "action", "body", "leaf_hash", "chain_hash")
_CHECKPOINT_COLUMNS = ("seq", "ts", "chain_hash", "key_id", "signature")


@dataclass(frozen=True)
class _SqliteSql:
    """The four statements above compiled for SQLite's driver (positional `?`, LIMIT inline)."""

    head: str
    checkpoint: str
    insert_events: str
    insert_checkpoint: str

    @classmethod
    def compile(cls, dialect: Dialect) -> _SqliteSql:
        inline = {"literal_binds": True}
        inserts = []
        for stmt, columns in ((_INSERT_EVENTS, _EVENT_COLUMNS), (_INSERT_CHECKPOINT, _CHECKPOINT_COLUMNS)):
            compiled = stmt.compile(dialect=dialect)
            if tuple(compiled.positiontup or ()) != columns:  # the rows below are built in this order
                raise RuntimeError(f"{compiled} binds {compiled.positiontup}, not {columns}")
            inserts.append(str(compiled))
        return cls(str(_HEAD.compile(dialect=dialect, compile_kwargs=inline)),
                   str(_CHECKPOINT.compile(dialect=dialect, compile_kwargs=inline)), *inserts)


@dataclass
class Committed:
    """Per event its sequence number, or the error that kept it out; and the checkpoint that signs them."""

    results: list[int | Exception]
    checkpoint: Checkpoint | None


@dataclass(frozen=True)
class Head:
    """The chain's newest event and newest checkpoint, as read under the write lock."""

    seq: int
    chain_hash: str
    checkpoint: Checkpoint | None


class ChainTransaction(Protocol):
    """One write transaction on the chain, holding its write lock from the start."""

    def head(self) -> Head: ...

    def insert(self, rows: list[Row], checkpoint: Checkpoint, ts: datetime) -> None: ...


class _CoreTransaction:
    """PostgreSQL (and any SQLAlchemy store): Core statements; the lock is an advisory lock with a bounded wait."""

    def __init__(self, conn: Connection, postgres: bool, lock_timeout_ms: int):
        self.conn = conn
        if postgres:
            # A writer stuck holding the lock must turn into an error here, not a request that hangs.
            conn.execute(text("SELECT set_config('lock_timeout', :t, true), pg_advisory_xact_lock(:k)"),
                         {"t": f"{lock_timeout_ms}ms", "k": APPEND_LOCK})

    def head(self) -> Head:
        row = self.conn.execute(_HEAD).first()
        cp = self.conn.execute(_CHECKPOINT).first()
        checkpoint = None if cp is None else Checkpoint(cp.seq, cp.chain_hash, _iso(cp.ts), cp.key_id,
                                                        bytes(cp.signature))
        return Head(row[0], row[1], checkpoint) if row else Head(0, GENESIS, checkpoint)

    def insert(self, rows: list[Row], checkpoint: Checkpoint, ts: datetime) -> None:
        self.conn.execute(_INSERT_EVENTS, [dict(zip(_EVENT_COLUMNS, r)) for r in rows])
        self.conn.execute(_INSERT_CHECKPOINT, [{"seq": checkpoint.seq, "ts": ts, "chain_hash": checkpoint.chain_hash,
                                                "key_id": checkpoint.key_id, "signature": checkpoint.signature}])


class _SqliteTransaction:
    """SQLite's own driver under BEGIN IMMEDIATE (its single writer is the lock). Timestamps go through the
    column type's own SQLAlchemy converters, so rows are stored exactly as the Core path stores them."""

    def __init__(self, cur: sqlite3.Cursor, sql: _SqliteSql, ts_in: Callable[[datetime], str],
                 ts_out: Callable[[str], datetime]):
        self.cur = cur
        self.sql = sql
        self._ts_in = ts_in
        self._ts_out = ts_out

    def head(self) -> Head:
        row = self.cur.execute(self.sql.head).fetchone()
        cp = self.cur.execute(self.sql.checkpoint).fetchone()
        checkpoint = None if cp is None else Checkpoint(cp[0], cp[1], _iso(self._ts_out(cp[2])), cp[3], bytes(cp[4]))
        return Head(row[0], row[1], checkpoint) if row else Head(0, GENESIS, checkpoint)

    def insert(self, rows: list[Row], checkpoint: Checkpoint, ts: datetime) -> None:
        ts_in = self._ts_in
        self.cur.executemany(self.sql.insert_events, [(r[0], ts_in(r[1]), *r[2:]) for r in rows])
        self.cur.execute(self.sql.insert_checkpoint, (checkpoint.seq, ts_in(ts), checkpoint.chain_hash,
                                                     checkpoint.key_id, checkpoint.signature))


def _iso(ts: datetime) -> str:
    return ts.isoformat(timespec="microseconds")


class ChainWriter:
    """Appends batches to the one chain in the store; safe to share by threads, one batch at a time."""

    def __init__(self, db: Database, key: DeploymentKey, lock_timeout_s: float = 10.0):
        self.db = db
        self.key = key
        self._lock_timeout_ms = max(1, int(lock_timeout_s * 1000))
        self._trusted: Checkpoint | None = None  # the newest checkpoint this process signed or verified
        self._sqlite: tuple[_SqliteSql, Callable, Callable] | None = None
        if db.dialect == "sqlite":
            # Core's own statements, and the column type as the dialect adapts it (SQLite's DATETIME text),
            # so the driver's rows are the ones Core would write.
            dialect = db.engine.dialect
            ts_type = AuditEvent.__table__.c.ts.type.dialect_impl(dialect)
            self._sqlite = (_SqliteSql.compile(dialect), ts_type.bind_processor(dialect),
                            ts_type.result_processor(dialect, None))

    @contextmanager
    def transaction(self) -> Iterator[ChainTransaction]:
        """A write transaction holding the chain's lock (bounded wait on PostgreSQL); commits on success.

        On SQLite it runs on the driver's own cursor: a one-event commit takes 0.33-0.54 ms there instead of
        0.44-0.73 ms through SQLAlchemy Core back to back, 1.10-1.18 instead of 1.59-1.66 ms after 5 ms idle,
        as between a lone client's requests (benchmarks/store_paths_bench.py; docs/benchmarks.md, round 5).
        """
        if self._sqlite is not None:
            with self.db.sqlite_immediate() as cur:
                yield _SqliteTransaction(cur, *self._sqlite)
        else:
            with self.db.write_connection() as conn:
                yield _CoreTransaction(conn, self.db.dialect == "postgresql", self._lock_timeout_ms)

    def read_head(self) -> Head:
        """The head, read under the write lock (so no commit is half-way through)."""
        with self.transaction() as tx:
            return tx.head()

    def commit(self, events: Sequence[Event], *, accept_unsigned_tail: bool = False) -> Committed:
        """Append `events` and a checkpoint over the last one; returns once the transaction committed."""
        with self.transaction() as tx:
            head = tx.head()
            problem = self.tail_problem(head)
            if problem and not accept_unsigned_tail:
                raise AuditTailUnsigned(problem)
            seq, chain = head.seq, head.chain_hash
            if problem and head.checkpoint and head.checkpoint.seq > seq:
                raise AuditTailUnsigned(f"{problem} A deleted tail cannot be accepted (its sequence numbers are "
                                        "signed); restore the audit tables from a backup.")
            rows: list[Row] = []
            results: list[int | Exception] = []
            for event in events:
                try:
                    record = event.to_record()
                    record["seq"] = seq + 1
                    body = canonical(record)
                except (ValueError, TypeError) as e:  # a bad event fails alone, not its whole batch
                    results.append(e)
                    continue
                seq += 1
                leaf = leaf_hash(body)
                chain = link(chain, leaf)
                rows.append((seq, event.ts, event.tenant_id, event.action, body.decode("utf-8"), leaf, chain))
                results.append(seq)
            if not rows:
                return Committed(results, None)
            ts = utcnow()
            cp = Checkpoint(seq, chain, _iso(ts), self.key.key_id, b"")
            cp = Checkpoint(seq, chain, cp.ts, cp.key_id, self.key.sign(cp.message()))
            tx.insert(rows, cp, ts)
        self._trusted = cp
        return Committed(results, cp)

    def tail_problem(self, head: Head) -> str | None:
        """Why the head is not the one the newest checkpoint signed, or None when it is."""
        cp = head.checkpoint
        if cp is None:
            if head.seq == 0:
                return None
            return (f"events 1..{head.seq} are covered by no signed checkpoint (written by an older jaju that "
                    "crashed, or forged).")
        if cp.seq > head.seq:
            return (f"the chain ends at event {head.seq} but a signed checkpoint covers event {cp.seq}: "
                    "the tail was deleted.")
        if cp.seq < head.seq:
            return (f"events {cp.seq + 1}..{head.seq} follow the last signed checkpoint (event {cp.seq}): "
                    "they were written outside jaju's group commit (by an older jaju that crashed, or forged).")
        if cp.chain_hash != head.chain_hash:
            return f"the chain head at event {cp.seq} differs from its signed checkpoint: the chain was rewritten."
        if cp == self._trusted:
            return None
        if cp.key_id != self.key.key_id:
            return (f"the checkpoint at event {cp.seq} is signed by key {cp.key_id}, not by this deployment's key "
                    f"{self.key.key_id}: every process on one store must share the deployment key.")
        if not verify_signature(self.key.public, cp.signature, cp.message()):
            return f"the checkpoint at event {cp.seq} has an invalid signature (edited or forged)."
        self._trusted = cp
        return None
