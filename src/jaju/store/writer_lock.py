"""A writer lock for an SQLite file shared by processes: waiters wake when it is free, not on a timer.

SQLite lets one writer in at a time, and a connection that finds the file locked waits in its busy
handler, which sleeps 1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50 then 100 ms between tries. The writes that
every request waits on (the audit group commit, the shared rate-limit bucket) hold the lock for about a
millisecond or less, so with two API workers those sleeps made the tail: two processes' audit writers
waited 20-36 ms at p99 and up to 1.2 s with the busy handler, 5-8 ms and at most 10-50 ms behind this
lock (benchmarks/writer_contention_bench.py; docs/benchmarks.md, round 6). Taking an `flock` on a file
next to the database before `BEGIN IMMEDIATE` queues the writers in the kernel, which wakes the next one
when the holder lets go. SQLite's own lock still decides who writes; this only orders the waiting, so a
writer that does not take it stays correct. The price is fairness: the writers alternate, where the busy
handler let one run on while the other slept, so each waits for the other's commit more often (mean wait
2.2 -> 2.5 ms in the same benchmark, with the store saturated).
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger("jaju.store")


class WriterLock:
    """An exclusive lock across processes (`flock` on `path`) and across this process's threads.

    Where the lock file cannot be opened (a read-only directory) the lock is only the thread lock, and
    waiting falls back to SQLite's busy handler: slower under contention, never wrong.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._threads = threading.Lock()  # flock is per open file: threads sharing the fd would not wait
        self._fd: int | None = None
        self._pid: int | None = None  # the process that opened it: a forked child opens its own

    def _file(self) -> int | None:
        # Opened on first use, under the thread lock (a Database that never writes opens nothing), and again
        # in a forked child: a descriptor inherited across fork is the same open file, whose flock would not
        # keep parent and child apart.
        if self._pid != os.getpid():
            self._pid = os.getpid()
            self._fd = None
            try:
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            except OSError as e:
                log.warning("writer lock %s cannot be opened (%s); writers wait in SQLite's busy handler",
                            self.path.name, e.strerror)
        return self._fd

    @contextmanager
    def held(self) -> Iterator[None]:
        with self._threads:
            fd = self._file()
            if fd is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)  # blocks in the kernel; no GIL held while it waits
            try:
                yield
            finally:
                if fd is not None:
                    fcntl.flock(fd, fcntl.LOCK_UN)

    def close(self) -> None:
        with self._threads:
            if self._fd is not None and self._pid == os.getpid():
                os.close(self._fd)
            self._fd, self._pid = None, None
