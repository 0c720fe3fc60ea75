"""Restoring placeholders in streamed text, where [PERSON_1] may arrive split across chunks."""

from __future__ import annotations

from collections.abc import AsyncIterator

from jaju.privacy.session import Session


class StreamRestorer:
    """Feed chunks, get restored text; holds back only a suffix that could still become a known placeholder."""

    def __init__(self, session: Session):
        self._session = session
        self._pending = ""
        # Proper prefixes of the placeholders this session knows ("[", "[P", ..., "[PERSON_1").
        self._prefixes = {p[:i] for p in session.values for i in range(1, len(p))}

    def feed(self, chunk: str) -> str:
        """Restored text that is safe to emit now."""
        buf = self._pending + chunk
        cut = buf.rfind("[")
        if cut == -1 or buf[cut:] not in self._prefixes:
            # No placeholder can start in the tail: '[' never appears inside a placeholder.
            self._pending = ""
            return self._session.restore(buf)
        self._pending = buf[cut:]
        return self._session.restore(buf[:cut])

    def flush(self) -> str:
        """Whatever is held back, at the end of the stream."""
        rest, self._pending = self._pending, ""
        return self._session.restore(rest)


async def restore_stream(session: Session, chunks: AsyncIterator[str]) -> AsyncIterator[str]:
    """Yield text with the session's placeholders restored, never splitting one."""
    restorer = StreamRestorer(session)
    async for chunk in chunks:
        out = restorer.feed(chunk)
        if out:
            yield out
    tail = restorer.flush()
    if tail:
        yield tail
