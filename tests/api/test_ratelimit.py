"""Rate limits: per process by default; shared by every replica through the real Redis."""

from __future__ import annotations

import secrets

import pytest
import redis

from jaju.api.ratelimit import RateLimiter, RedisRateLimiter
from jaju.errors import ApiError

REDIS = "redis://127.0.0.1:6379/0"


def test_token_bucket_refuses_the_third_request():
    limiter = RateLimiter(2)
    limiter.check("key_a")
    limiter.check("key_a")
    with pytest.raises(ApiError) as e:
        limiter.check("key_a")
    assert e.value.status == 429 and int(e.value.headers["Retry-After"]) >= 1
    limiter.check("key_b")  # other keys are unaffected


def test_replicas_share_one_limit_in_redis():
    prefix = f"jaju:test:{secrets.token_hex(4)}"
    a, b = RedisRateLimiter(REDIS, 3, prefix), RedisRateLimiter(REDIS, 3, prefix)  # two processes' limiters
    try:
        a.check("key_x")
        b.check("key_x")
        a.check("key_x")
        with pytest.raises(ApiError) as e:
            b.check("key_x")
        assert e.value.status == 429 and 1 <= int(e.value.headers["Retry-After"]) <= 61
    finally:
        r = redis.Redis.from_url(REDIS)
        for k in r.scan_iter(f"{prefix}:*"):
            r.delete(k)


def test_unreachable_redis_lets_requests_through(caplog):
    limiter = RedisRateLimiter("redis://127.0.0.1:1/0", 1)
    limiter.check("key_y")
    limiter.check("key_y")
    assert "Redis unavailable" in caplog.text
