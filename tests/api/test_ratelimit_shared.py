"""The rate limit that `jaju serve --workers N` shares: one bucket per key across processes."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor


from jaju.api.ratelimit import SharedRateLimiter
from jaju.errors import ApiError

PER_MINUTE = 20


def _spend(path: str, key: str, tries: int) -> int:
    """One worker process: how many of `tries` requests the shared limiter let through."""
    limiter = SharedRateLimiter(path, PER_MINUTE)
    allowed = 0
    for _ in range(tries):
        try:
            limiter.check(key)
            allowed += 1
        except ApiError as e:
            assert e.status == 429 and e.code == "rate_limit_exceeded" and int(e.headers["Retry-After"]) >= 1
    return allowed


def test_the_limit_holds_across_worker_processes(tmp_path):
    path = str(tmp_path / "ratelimit.db")
    with ProcessPoolExecutor(3, mp_context=multiprocessing.get_context("spawn")) as pool:
        allowed = list(pool.map(_spend, [path] * 3, ["key_a"] * 3, [PER_MINUTE] * 3))
    # 3 processes x 20 tries; one bucket of 20 (plus what refills at 1 per 3 s while they run).
    assert PER_MINUTE <= sum(allowed) <= PER_MINUTE + 2
    assert all(n < PER_MINUTE * 3 for n in allowed)


def test_keys_have_their_own_buckets_and_zero_turns_it_off(tmp_path):
    path = tmp_path / "ratelimit.db"
    assert _spend(str(path), "key_a", PER_MINUTE + 5) == PER_MINUTE
    assert _spend(str(path), "key_b", 5) == 5
    off = SharedRateLimiter(path, 0)
    for _ in range(100):
        off.check("key_a")


def test_an_unwritable_file_lets_requests_through(tmp_path, caplog):
    limiter = SharedRateLimiter(tmp_path / "missing-dir" / "ratelimit.db", 1)
    limiter.check("key_a")
    limiter.check("key_a")
    assert "letting the request through" in caplog.text
