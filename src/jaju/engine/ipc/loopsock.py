"""A plain ZeroMQ socket read on an asyncio loop, without a future per message.

zmq.asyncio wraps every recv and send in a future; on the token path (one message per token per worker)
that bookkeeping was most of the engine loop's work. Here the socket's file descriptor is watched with
`loop.add_reader`, every message that is waiting is handed to a plain callback, and sends are ordinary
non-blocking calls.

ZeroMQ's descriptor is edge-triggered: it signals that the socket's events may have changed, and any
operation on the socket, a send included, can take that signal without reading the message behind it.
So the reader drains until the socket says nothing more is waiting (ZMQ_EVENTS, which also re-arms
the descriptor), and whoever sends calls `after_send()`, which looks again. Every call into libzmq
here costs a getpid() system call (its fork check), so the reader makes as few as it can: one recv and
one EVENTS per message.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import zmq

BURST = 256  # messages read in one go before other callbacks get a turn


class LoopReader:
    def __init__(self, sock: zmq.Socket, loop: asyncio.AbstractEventLoop, on_message: Callable[[Any], None],
                 multipart: bool = False):
        self.sock = sock
        self.loop = loop
        self.on_message = on_message
        self._recv = sock.recv_multipart if multipart else sock.recv
        self._fd = sock.getsockopt(zmq.FD)
        self._scheduled = False
        self._closed = False
        loop.add_reader(self._fd, self._drain)
        self.kick()  # anything that arrived before the reader was added

    def _drain(self) -> None:
        self._scheduled = False
        if self._closed:
            return
        sock, recv = self.sock, self._recv
        for _ in range(BURST):
            try:
                message = recv(zmq.NOBLOCK)
            except zmq.Again:  # the descriptor said "may have changed", and nothing had come
                return
            self.on_message(message)
            if self._closed:  # the callback closed the socket
                return
            # Ask before reading again: a recv that finds nothing raises, and costs more than this.
            if not sock.getsockopt(zmq.EVENTS) & zmq.POLLIN:
                return
        self.kick()  # more may be waiting: read on after the loop's other callbacks

    def kick(self) -> None:
        if not self._scheduled and not self._closed:
            self._scheduled = True
            self.loop.call_soon(self._drain)

    def after_send(self) -> None:
        """A send may have taken the descriptor's signal: read whatever is waiting."""
        if not self._closed and self.sock.getsockopt(zmq.EVENTS) & zmq.POLLIN:
            self.kick()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            try:
                self.loop.remove_reader(self._fd)
            except (RuntimeError, OSError, ValueError):  # the loop is closed already (a test's previous loop)
                pass
