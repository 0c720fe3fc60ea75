"""The token path from an engine thread straight to a worker: one plain unix socket per worker.

ZeroMQ carries requests, calls and everything else, but a streamed token through it woke four threads
(the engine process's loop to send it, a ZeroMQ I/O thread on each side, then the worker's loop), where
llama-server wakes one. On this channel the engine thread that sampled the tokens writes them itself,
once per decode step (`Scheduler` calls `flush` after each step), and only the worker's loop wakes to
read them. Frames are the same pickled reply lists as on the ZeroMQ socket, each after a 4-byte length.

The channel is an addition, never a requirement: a worker connects it after its ZeroMQ socket and sends
its ZeroMQ routing id as the first frame, and the engine uses it for that worker's generations from then
on. A generation submitted before that, or by a backend without an engine thread, answers over ZeroMQ.

A worker that reads slowly never blocks an engine thread: what the socket cannot take at once waits in
a backlog that the engine process's loop writes out as the socket drains, and everything after it
queues behind it, in order. A backlog past `MAX_BACKLOG` means the worker has stopped reading; the
channel is closed, the worker sees it close and fails its requests in flight, and the engine cancels
them, as when a worker dies.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from collections.abc import Callable
from typing import Any

from jaju.engine.ipc.wire import add_reply, dumps

log = logging.getLogger("jaju.engine.ipc")

MAX_BACKLOG = 64 * 1024 * 1024
_LEN = 4
_READ = 256 * 1024


def frame(obj: Any) -> bytes:
    return _prefixed(dumps(obj))


def _prefixed(data: bytes) -> bytes:
    return len(data).to_bytes(_LEN, "little") + data


class Frames:
    """Splits a byte stream into the frames written by `frame`."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        buf = self._buf
        if not buf and len(data) >= _LEN and int.from_bytes(data[:_LEN], "little") == len(data) - _LEN:
            return [data[_LEN:]]  # the common case: exactly one whole frame
        buf += data
        out, pos, n = [], 0, len(buf)
        while n - pos >= _LEN:
            size = int.from_bytes(buf[pos:pos + _LEN], "little")
            if n - pos - _LEN < size:
                break
            out.append(bytes(buf[pos + _LEN:pos + _LEN + size]))
            pos += _LEN + size
        del buf[:pos]
        return out


class DeltaChannel:
    """The engine process's end of one worker's channel. `put` and `flush` run on engine threads."""

    def __init__(self, sock: socket.socket, loop: asyncio.AbstractEventLoop, on_broken: Callable[[], None]):
        sock.setblocking(False)
        self.sock = sock
        self.loop = loop
        self._on_broken = on_broken  # called on the loop, once, when the worker is gone or stopped reading
        self._lock = threading.Lock()  # several models' engine threads may write to one worker
        self._pending: list[list] = []
        self._backlog = bytearray()
        self._writing = False
        self.closed = False

    def put(self, rid: int, kind: str, payload: Any) -> None:
        """Queue one reply for the next `flush`; consecutive deltas of one request share an entry."""
        with self._lock:
            add_reply(self._pending, rid, kind, payload)

    def flush(self) -> None:
        """Send what `put` gathered as one frame, without ever waiting for the worker."""
        with self._lock:
            if not self._pending or self.closed:
                self._pending = []
                return
            data = frame(self._pending)
            self._pending = []
            if self._backlog:
                self._queue(data)
                return
            try:
                sent = self.sock.send(data)
            except BlockingIOError:
                sent = 0
            except OSError:  # the worker is gone
                self._break()
                return
            if sent < len(data):
                self._queue(data[sent:])

    def _queue(self, data: bytes) -> None:
        """Under the lock: keep what the socket could not take; the loop writes it as the socket drains."""
        self._backlog += data
        if len(self._backlog) > MAX_BACKLOG:
            log.error("a worker stopped reading its tokens (%d bytes waiting); closing its channel",
                      len(self._backlog))
            self._break()
        elif not self._writing:
            self._writing = True
            self.loop.call_soon_threadsafe(self._start_writer)

    def _start_writer(self) -> None:
        if not self.closed:
            self.loop.add_writer(self.sock.fileno(), self._write)

    def _write(self) -> None:
        with self._lock:
            if self.closed:
                return
            try:
                sent = self.sock.send(self._backlog)
            except BlockingIOError:
                return
            except OSError:
                self._break()
                return
            del self._backlog[:sent]
            if self._backlog:
                return
            self._writing = False
        self.loop.remove_writer(self.sock.fileno())

    def lost(self) -> None:
        """The worker closed its end."""
        with self._lock:
            self._break()

    def _break(self) -> None:
        """Under the lock: close, and tell the loop the worker is gone (once)."""
        if self.closed:
            return
        self.closed = True
        self._backlog.clear()
        self.loop.call_soon_threadsafe(self._closed)

    def _closed(self) -> None:
        self._remove_watchers()
        self.sock.close()
        self._on_broken()

    def _remove_watchers(self) -> None:
        try:
            self.loop.remove_writer(self.sock.fileno())
            self.loop.remove_reader(self.sock.fileno())
        except (RuntimeError, OSError, ValueError):  # the loop is closed, or the socket already
            pass

    def close(self) -> None:
        """From the loop (the engine process is stopping)."""
        with self._lock:
            self.closed = True
        self._remove_watchers()
        self.sock.close()


class ChannelListener:
    """The engine process's listening socket: accepts workers' channels and reads who each one is.

    `on_channel(ident, channel)` gets each registered channel; `on_gone(ident, channel)` is called on the
    loop when it closes (the worker died) or breaks.
    """

    def __init__(self, path: str, on_channel: Callable[[bytes, DeltaChannel], None],
                 on_gone: Callable[[bytes, DeltaChannel], None]):
        self.path = path
        self.loop: asyncio.AbstractEventLoop | None = None
        self._on_channel = on_channel
        self._on_gone = on_gone
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.bind(path)  # in the run directory, 0700: only jaju's own processes can connect
        self._sock.listen(64)
        self._sock.setblocking(False)
        self._greeting: dict[socket.socket, Frames] = {}

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Accept on `loop` (connections made before this wait in the backlog)."""
        self.loop = loop
        loop.add_reader(self._sock.fileno(), self._accept)

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                log.exception("could not accept a worker's token channel")
                return
            conn.setblocking(False)
            self._greeting[conn] = Frames()
            self.loop.add_reader(conn.fileno(), self._hello, conn)

    def _hello(self, conn: socket.socket) -> None:
        try:
            data = conn.recv(_READ)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        frames = self._greeting[conn].feed(data) if data else []
        if not data or frames:
            self.loop.remove_reader(conn.fileno())
            del self._greeting[conn]
        if not data:
            conn.close()
            return
        if not frames:
            return  # the rest of the greeting is still coming
        ident = frames[0]
        channel = DeltaChannel(conn, self.loop, lambda: self._on_gone(ident, channel))
        # The worker never writes again; readable now means it closed its end (it died or restarted).
        self.loop.add_reader(conn.fileno(), self._watch, ident, channel)
        self._on_channel(ident, channel)

    def _watch(self, ident: bytes, channel: DeltaChannel) -> None:
        try:
            data = channel.sock.recv(_READ)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if data:
            return  # nothing is expected from a worker after its greeting; ignored
        channel.lost()

    def close(self) -> None:
        for conn in self._greeting:
            self._remove(conn)
            conn.close()
        self._greeting.clear()
        self._remove(self._sock)
        self._sock.close()

    def _remove(self, sock: socket.socket) -> None:
        if self.loop is None:
            return
        try:
            self.loop.remove_reader(sock.fileno())
        except (RuntimeError, OSError, ValueError):
            pass


class ChannelReader:
    """A worker's end: connects, says who it is, and hands every frame that arrives to `on_frame`.

    `on_lost()` is called once if the engine process closes the channel (it stopped, or dropped this
    worker). Constructing raises OSError when no engine process listens (the worker then gets every
    reply over ZeroMQ until it connects again).
    """

    def __init__(self, path: str, ident: bytes, loop: asyncio.AbstractEventLoop, on_frame: Callable[[bytes], None],
                 on_lost: Callable[[], None]):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(path)
            sock.sendall(_prefixed(ident))  # raw bytes, not a pickle: who this is
        except OSError:
            sock.close()
            raise
        sock.setblocking(False)
        self.sock = sock
        self.loop = loop
        self._on_frame = on_frame
        self._on_lost = on_lost
        self._frames = Frames()
        self.closed = False
        loop.add_reader(sock.fileno(), self._read)

    def _read(self) -> None:
        for _ in range(64):  # then let the loop's other callbacks have a turn
            try:
                data = self.sock.recv(_READ)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if not data:
                self.close()
                self._on_lost()
                return
            for f in self._frames.feed(data):
                self._on_frame(f)
                if self.closed:
                    return
            if len(data) < _READ:
                return  # drained: the next write wakes the loop again

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            self.loop.remove_reader(self.sock.fileno())
        except (RuntimeError, OSError, ValueError):  # the loop is closed already
            pass
        self.sock.close()
