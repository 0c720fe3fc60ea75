"""Logging set-up for jaju's processes: jaju's own records at the chosen level, libraries quiet.

httpx logs a line per outgoing request and Alembic one per migration step at INFO; on a gateway those
lines cost time on every request and say nothing an operator needs (and a URL can carry content).
"""

from __future__ import annotations

import logging

QUIET = ("httpx", "httpcore", "alembic", "uvicorn.access")


def configure(level: str, tag: str = "") -> None:
    """`tag` goes after the logger name (the process id, when several processes share a terminal)."""
    logging.basicConfig(level=level.upper(), format=f"%(asctime)s %(levelname)s %(name)s{tag}: %(message)s")
    for name in QUIET:
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLogger().level))
