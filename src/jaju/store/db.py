"""The Database service: one engine, sessions, migrations, and a write lock for the audit chain."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from jaju.errors import ConfigError
from jaju.store.writer_lock import WriterLock

MIGRATIONS = Path(__file__).parent / "migrations"
# Arbitrary constant for pg_advisory_xact_lock; serialises migrations and audit appends.
_MIGRATION_LOCK = 0x6A616A75  # "jaju"


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


class Database:
    """SQLAlchemy engine plus session factory for SQLite (default) or PostgreSQL."""

    def __init__(self, url: str):
        try:
            parsed = make_url(url)
        except ArgumentError as e:
            raise ConfigError(f"Database URL {url!r} is not valid ({e}). "
                              "Use sqlite:///PATH or postgresql+psycopg://USER@HOST:PORT/DB.") from None
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        self.url = parsed
        self.dialect = parsed.get_backend_name()
        if self.dialect not in ("sqlite", "postgresql"):
            raise ConfigError(f"Database {self.dialect!r} is not supported; use SQLite or PostgreSQL.")
        self._writer_lock: WriterLock | None = None
        if self.dialect == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
                # Beside the file, as SQLite's own -wal and -shm: every process on this store finds the same one.
                self._writer_lock = WriterLock(parsed.database + "-writer-lock")
            self.engine = create_engine(parsed, connect_args={"check_same_thread": False, "timeout": 30})
            event.listen(self.engine, "connect", _sqlite_pragmas)
        else:
            self.engine = create_engine(parsed, pool_size=10, max_overflow=20, pool_pre_ping=True)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on error."""
        with self.sessions() as s:
            try:
                yield s
                s.commit()
            except BaseException:
                s.rollback()
                raise

    def lock_for_write(self, conn: Connection | Session, key: int) -> None:
        """Take the database-wide write lock named by key until the transaction ends."""
        if self.dialect == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})
        # SQLite has one writer at a time already; callers use BEGIN IMMEDIATE via immediate().

    def _queued(self):
        """On a SQLite file, the store's WriterLock: writers from every process (`jaju serve --workers N`)
        queue on it before `BEGIN IMMEDIATE`, so a waiting one starts as soon as the holder commits instead
        of on its busy handler's next try (jaju/store/writer_lock.py). Elsewhere nothing."""
        return self._writer_lock.held() if self._writer_lock is not None else nullcontext()

    @contextmanager
    def immediate(self) -> Iterator[Session]:
        """A write transaction that holds the writer lock from its first statement."""
        with self._queued(), self.sessions() as s:
            try:
                if self.dialect == "sqlite":
                    s.connection().exec_driver_sql("BEGIN IMMEDIATE")
                yield s
                s.commit()
            except BaseException:
                s.rollback()
                raise

    @contextmanager
    def write_connection(self) -> Iterator[Connection]:
        """`immediate()` on a Core connection: no ORM session to set up, for hot paths that run Core statements."""
        with self._queued(), self.engine.connect() as conn:
            try:
                if self.dialect == "sqlite":
                    conn.exec_driver_sql("BEGIN IMMEDIATE")
                yield conn
                conn.commit()
            except BaseException:
                conn.rollback()
                raise

    @contextmanager
    def _sqlite_cursor(self) -> Iterator[tuple[Any, sqlite3.Cursor]]:
        """A pooled connection's driver connection and a cursor on it (its connect hook set WAL and
        synchronous=FULL); both go back when the block ends."""
        if self.dialect != "sqlite":
            raise ValueError("the driver's own cursor is for SQLite stores only")
        conn = self.engine.raw_connection()
        try:
            cur = conn.cursor()
            try:
                yield conn, cur
            finally:
                cur.close()
        finally:
            conn.close()

    @contextmanager
    def sqlite_immediate(self) -> Iterator[sqlite3.Cursor]:
        """SQLite only: `write_connection()` as a DBAPI cursor, for the one write every request waits on
        (the audit group commit), where SQLAlchemy's per-statement work costs more than SQLite's own."""
        with self._queued(), self._sqlite_cursor() as (conn, cur):
            try:
                cur.execute("BEGIN IMMEDIATE")
                yield cur
                conn.commit()
            except BaseException:
                conn.rollback()
                raise

    def sqlite_first(self, sql: str, params: tuple) -> tuple | None:
        """SQLite only: the first row of one read on the driver's own cursor, for the read every request
        makes (its API key); `sql` is a Core statement compiled for this dialect."""
        with self._sqlite_cursor() as (_, cur):
            return cur.execute(sql, params).fetchone()

    def ping(self) -> bool:
        """True when the store answers a trivial query."""
        try:
            with self.engine.connect() as c:
                c.execute(text("SELECT 1"))
            return True
        except OperationalError:
            return False

    def migrate(self) -> None:
        """Bring the schema to the newest revision of every migration branch."""
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        try:
            with self.engine.begin() as conn:
                if self.dialect == "postgresql":
                    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK})
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "heads")
        except OperationalError as e:
            raise ConfigError(f"Cannot reach the database at {self.url.render_as_string(hide_password=True)}: "
                              f"{e.orig}. Check JAJU_DATABASE_URL and that the server runs.") from None

    def dispose(self) -> None:
        self.engine.dispose()
        if self._writer_lock is not None:
            self._writer_lock.close()

    # A single store holds every tenant's content; TenantStores answers the same calls per jurisdiction.
    def for_tenant(self, tenant_id: str) -> Database:
        return self

    def all(self) -> list[Database]:
        return [self]
