"""Keep what a serving process built at start-up out of the cyclic garbage collector's full passes.

A full (generation 2) collection walks every object the collector tracks. A built API worker holds about
190,000 of them (routes, schemas, SQLAlchemy metadata, recognizers, metrics), and while one pass runs,
every request on that worker waits. Under load on the 2-core box (c=16, 20 s) a worker made a full pass
every 5-7 s, each taking 122-153 ms. The engine process, whose scheduler every stream waits on, holds as
many. Those objects live as long as the process, so after start-up they are collected once, for the garbage start-up left,
and frozen (`gc.freeze`): later full passes walk only what was made since, and took 3-12 ms in the same
run (docs/benchmarks.md, round 6). Frozen objects are still freed when their last reference goes; only a
cycle among them would outlive its use.
"""

from __future__ import annotations

import gc
import logging

log = logging.getLogger("jaju")


def freeze_startup_objects() -> int:
    """Collect, then freeze everything still alive; returns how many objects were frozen."""
    gc.collect()
    gc.freeze()
    frozen = gc.get_freeze_count()
    log.debug("start-up heap frozen: %d objects kept out of full collections", frozen)
    return frozen
