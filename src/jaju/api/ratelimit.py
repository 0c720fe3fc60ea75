"""Per-key request rate limit (token bucket, per process)."""

from __future__ import annotations

import threading
import time

from jaju.errors import ApiError


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
                wait = max(1, int((1.0 - tokens) / rate + 0.999))
                self._buckets[key_id] = (tokens, now)
                raise ApiError(429, f"Rate limit of {self.per_minute} requests per minute reached for this key.",
                               "rate_limit_error", "rate_limit_exceeded", headers={"Retry-After": str(wait)})
            self._buckets[key_id] = (tokens - 1.0, now)
