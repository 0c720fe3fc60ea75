"""Turning sampled tokens into safe text: UTF-8 across token boundaries, stop strings, tool-call markup."""

from __future__ import annotations

import codecs


class Utf8Stream:
    """Decodes byte pieces incrementally; a Korean syllable split across tokens waits for its last byte."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def feed(self, piece: bytes) -> str:
        return self._decoder.decode(piece)

    @property
    def pending(self) -> bytes:
        """The bytes of a character still unfinished (b"" between whole characters)."""
        return self._decoder.getstate()[0]

    def finish(self) -> str:
        """End of output: a character cut off by max_tokens or a stop is dropped, never shown as U+FFFD."""
        self._decoder.reset()
        return ""


def _held_suffix(text: str, needles: list[str]) -> int:
    """Length of the longest suffix of text that is a proper prefix of some needle."""
    best = 0
    for needle in needles:
        for k in range(min(len(needle) - 1, len(text)), best, -1):
            if text.endswith(needle[:k]):
                best = k
                break
    return best


class StopScanner:
    """Finds stop strings in streamed text, releasing only text that cannot be part of one."""

    def __init__(self, stops: list[str]):
        self.stops = [s for s in stops if s]
        self._pending = ""
        self.stopped = False

    def feed(self, text: str) -> str:
        if self.stopped:
            return ""
        if not self.stops:
            return text
        buf = self._pending + text
        cut = min((i for i in (buf.find(s) for s in self.stops) if i >= 0), default=-1)
        if cut >= 0:
            self.stopped = True
            self._pending = ""
            return buf[:cut]
        hold = _held_suffix(buf, self.stops)
        self._pending = buf[len(buf) - hold:] if hold else ""
        return buf[: len(buf) - hold]

    def flush(self) -> str:
        out, self._pending = self._pending, ""
        return "" if self.stopped else out


class ToolCallSplitter:
    """Splits generated text into visible content and Hermes-style `<tool_call>` markup."""

    OPEN = "<tool_call>"

    def __init__(self) -> None:
        self._pending = ""
        self.tool_text = ""
        self.in_tools = False

    def feed(self, text: str) -> str:
        if self.in_tools:
            self.tool_text += text
            return ""
        buf = self._pending + text
        at = buf.find(self.OPEN)
        if at >= 0:
            self.in_tools = True
            self.tool_text = buf[at:]
            self._pending = ""
            return buf[:at]
        hold = _held_suffix(buf, [self.OPEN])
        self._pending = buf[len(buf) - hold:] if hold else ""
        return buf[: len(buf) - hold]

    def flush(self) -> str:
        out, self._pending = self._pending, ""
        return out
