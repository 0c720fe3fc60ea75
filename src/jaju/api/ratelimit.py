"""Per-key request rate limits: a token bucket per process, one shared by a server's workers, or Redis for clusters."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from typing import Protocol

import redis

from jaju.errors import ApiError
from jaju.store.writer_lock import WriterLock

log = logging.getLogger("jaju.ratelimit")


class Limiter(Protocol):
    per_minute: int

    def check(self, key_id: str) -> None:
        """Return if the key may proceed; raise ApiError 429 otherwise."""
        ...


def too_many(per_minute: int, wait: int) -> ApiError:
    return ApiError(429, f"Rate limit of {per_minute} requests per minute reached for this key.",
                    "rate_limit_error", "rate_limit_exceeded", headers={"Retry-After": str(max(1, wait))})


class RateLimiter:
    """`per_minute` requests per API key, refilled continuously; 0 disables the limit.

    Each jaju process keeps its own buckets, so N replicas allow up to N times the rate.
    """

    def __init__(self, per_minute: int):
        self.per_minute = per_minute
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def check(self, key_id: str) -> None:
        if self.per_minute <= 0:
            return
        rate = self.per_minute / 60.0
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key_id, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - last) * rate)
            if tokens < 1.0:
                wait = int((1.0 - tokens) / rate + 0.999)
                self._buckets[key_id] = (tokens, now)
                raise too_many(self.per_minute, wait)
            self._buckets[key_id] = (tokens - 1.0, now)


class SharedRateLimiter:
    """The same token bucket as `RateLimiter`, kept in one SQLite file that every worker of a
    `jaju serve --workers N` opens, so the limit per key holds across workers.

    Each check is one short write transaction (WAL, no fsync: the buckets are rebuilt from empty at
    every start). Times are CLOCK_MONOTONIC, which Linux shares between processes. If the file cannot be
    written the request is let through and the failure logged, as with Redis.
    """

    def __init__(self, path, per_minute: int):
        self.per_minute = per_minute
        self.path = str(path)
        self._local = threading.local()
        # This check runs on the event loop: a worker that found the file locked would sleep there in
        # SQLite's busy handler (1 ms, then 2, 5...), stalling every request it serves; the lock wakes it
        # as soon as the other worker's update (tens of microseconds) is done.
        self._writer = WriterLock(self.path + "-writer-lock")

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=5.0, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=OFF")
            db.execute("CREATE TABLE IF NOT EXISTS buckets (key TEXT PRIMARY KEY, tokens REAL NOT NULL, "
                       "at REAL NOT NULL)")
            self._local.db = db
        return db

    def check(self, key_id: str) -> None:
        if self.per_minute <= 0:
            return
        rate = self.per_minute / 60.0
        try:
            db = self._db()
            with self._writer.held():
                allowed, tokens = self._take(db, key_id, rate)
        except sqlite3.Error as e:
            log.warning("rate limiter: shared bucket file unavailable (%s); letting the request through",
                        type(e).__name__)
            return
        if not allowed:
            raise too_many(self.per_minute, int((1.0 - tokens) / rate + 0.999))

    def _take(self, db: sqlite3.Connection, key_id: str, rate: float) -> tuple[bool, float]:
        """Take one token from the key's bucket if it has one: (allowed, tokens before taking)."""
        db.execute("BEGIN IMMEDIATE")  # SQLite's writer lock: one worker at a time reads and updates a bucket
        try:
            now = time.monotonic()
            row = db.execute("SELECT tokens, at FROM buckets WHERE key = ?", (key_id,)).fetchone()
            tokens, last = row if row is not None else (float(self.per_minute), now)
            tokens = min(float(self.per_minute), tokens + max(0.0, now - last) * rate)
            allowed = tokens >= 1.0
            db.execute("INSERT OR REPLACE INTO buckets (key, tokens, at) VALUES (?, ?, ?)",
                       (key_id, tokens - 1.0 if allowed else tokens, now))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return allowed, tokens


class RedisRateLimiter:
    """One limit for all replicas: a per-minute window counted in Redis (INCR with expiry).

    If Redis cannot be reached the request is let through and the failure logged: the limit protects
    capacity, and an outage of the counter should not become an outage of the API.
    """

    def __init__(self, url: str, per_minute: int, prefix: str = "jaju:rl"):
        self.per_minute = per_minute
        self.prefix = prefix
        self._redis = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)

    def check(self, key_id: str) -> None:
        if self.per_minute <= 0:
            return
        now = time.time()
        window = int(now // 60)
        name = f"{self.prefix}:{key_id}:{window}"
        try:
            pipe = self._redis.pipeline()
            pipe.incr(name)
            pipe.expire(name, 120)
            count = pipe.execute()[0]
        except redis.RedisError as e:
            log.warning("rate limiter: Redis unavailable (%s); letting the request through", type(e).__name__)
            return
        if count > self.per_minute:
            raise too_many(self.per_minute, int((window + 1) * 60 - now) + 1)
