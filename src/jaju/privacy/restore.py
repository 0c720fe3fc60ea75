"""Restoring tokens in replies: streamed text (a token may arrive split across chunks) and JSON arguments."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from jaju.privacy.matching import MAX_TOKEN
from jaju.privacy.session import Session


class StreamRestorer:
    """Feed chunks, get restored text; holds back only a tail that could still become (or extend) a token."""

    def __init__(self, session: Session):
        self._session = session
        self._pending = ""

    def feed(self, chunk: str) -> str:
        """Restored text that is safe to emit now."""
        buf = self._pending + chunk
        if not self._session.values or not buf:
            self._pending = ""
            return buf
        cut = self._safe_end(buf)
        self._pending = buf[cut:]
        return self._session.restore(buf[:cut])

    def flush(self) -> str:
        """Whatever is held back, at the end of the stream."""
        rest, self._pending = self._pending, ""
        return self._session.restore(rest)

    def _safe_end(self, buf: str) -> int:
        matcher = self._session.matcher()
        cut = len(buf)
        # A token that reaches the end may still grow: PERSON_1 -> PERSON_12, a closing bracket, a particle.
        for m, _ in matcher.finditer(buf[-2 * MAX_TOKEN:]):
            if m.end() == len(m.string):
                cut = len(buf) - len(m.string) + m.start()
                break
        for i in range(max(0, len(buf) - MAX_TOKEN), cut):
            if matcher.could_begin(buf[i:]):
                return i
        return cut


async def restore_stream(session: Session, chunks: AsyncIterator[str]) -> AsyncIterator[str]:
    """Yield text with the session's tokens restored, never splitting one."""
    restorer = StreamRestorer(session)
    async for chunk in chunks:
        out = restorer.feed(chunk)
        if out:
            yield out
    tail = restorer.flush()
    if tail:
        yield tail


def _json_escape(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)[1:-1]


def restore_arguments(session: Session, arguments: str) -> str:
    """Tool-call arguments (or a JSON reply) with tokens restored inside JSON strings; the JSON stays valid.

    Values go back through the JSON encoder, so a quote or backslash in an original value is escaped
    and the layout of the JSON is kept. Text that is not JSON is restored as plain text.
    """
    if not session.values or not arguments:
        return arguments
    try:
        json.loads(arguments)
    except json.JSONDecodeError:
        return session.restore(arguments)
    restored = session.restore(arguments, _json_escape)
    try:
        json.loads(restored)
    except json.JSONDecodeError:
        # A token outside a string (a surrogate's digits written as a bare number): rebuild the JSON.
        return json.dumps(_walk(session, json.loads(arguments)), ensure_ascii=False)
    return restored


def _walk(session: Session, value: Any) -> Any:
    if isinstance(value, str):
        return session.restore(value)
    if isinstance(value, list):
        return [_walk(session, v) for v in value]
    if isinstance(value, dict):
        return {_walk(session, k): _walk(session, v) for k, v in value.items()}
    if isinstance(value, int | float) and not isinstance(value, bool):
        restored = session.restore(str(value))
        return restored if restored != str(value) else value
    return value
