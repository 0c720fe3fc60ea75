"""The engine process: the models and their continuous batching, serving every API worker over ZeroMQ.

One ROUTER socket; each worker is a DEALER. A generation is prepared on this process's loop and
submitted to the existing `LlamaEngine`, so requests from all workers share one batch. Its deltas do
not pass through this loop at all when the worker has connected its token channel (channel.py): the
engine thread writes each decode step's deltas for that worker to the worker's unix socket itself, in
one frame. Without a channel (a worker that has not connected one yet) the engine thread posts them to
a list and wakes the loop once for all that are waiting (`_post`), and the loop sends them over ZeroMQ,
batched per worker.

A worker that goes away (killed, restarted) is noticed when its channel closes, or on the next ZeroMQ
send (ROUTER_MANDATORY): its generations are cancelled and their sequence slots freed at once.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import zmq

from jaju.compliance.watermark import WatermarkHook
from jaju.engine.base import LogitsHook, Remaining
from jaju.engine.bias import LogitBiasHook
from jaju.engine.catalog import EMBEDDING_MODEL
from jaju.engine.ipc.channel import ChannelListener, DeltaChannel
from jaju.engine.ipc.loopsock import LoopReader
from jaju.engine.ipc.wire import (CALL, CALLS, CANCEL, CHAT, COMPLETE, DELTAS, ERROR, RESULT, add_reply,
                                  channel_path, compact, dumps, error_tuple, loads)
from jaju.engine.registry import ModelRegistry
from jaju.errors import ApiError, JajuError

log = logging.getLogger("jaju.engine.ipc")

# Logits hooks cannot cross a process boundary; a worker sends a description and the engine rebuilds
# the hook from it here. Listed explicitly: an unknown kind is refused, never guessed.
HOOKS: dict[str, Callable[[dict[str, Any]], LogitsHook]] = {
    WatermarkHook.SPEC_KIND: WatermarkHook.from_spec,
    LogitBiasHook.SPEC_KIND: LogitBiasHook.from_spec,
}


class HookCache:
    """Rebuilt hooks by description; the watermark's green-list tables are worth keeping between requests."""

    def __init__(self, limit: int = 16):
        self._built: dict[bytes, LogitsHook] = {}
        self._limit = limit

    def build(self, spec: dict[str, Any]) -> LogitsHook:
        factory = HOOKS.get(spec.get("kind", ""))
        if factory is None:
            raise ApiError(500, f"The engine does not know the logits hook {spec.get('kind')!r}.", "api_error",
                           "unknown_logits_hook")
        key = dumps(sorted(spec.items()))
        hook = self._built.get(key)
        if hook is None:
            if len(self._built) >= self._limit:
                self._built.pop(next(iter(self._built)))
            hook = self._built[key] = factory(spec)
        return hook


@dataclass(slots=True)
class _Submitted:
    """A run an engine thread is generating, and its choices not finished yet as this loop has seen them
    (`Run.running` is the engine thread's count, ahead of the deltas still waiting in `_posted`)."""

    backend: Any
    run: Any
    running: Remaining


class EngineServer:
    """Answers workers' generations and calls from one ModelRegistry."""

    def __init__(self, registry: ModelRegistry, endpoint: str):
        self.registry = registry
        self.endpoint = endpoint
        self.hooks = HookCache()
        self._ctx = zmq.Context()
        self._sock: zmq.Socket | None = None
        self._reader: LoopReader | None = None
        self._tasks: dict[tuple[bytes, int], asyncio.Task] = {}
        self._runs: dict[tuple[bytes, int], _Submitted] = {}  # runs an engine thread is generating
        self._outbox: dict[bytes, list[list]] = {}
        self._flushing = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._posted: list[tuple[bytes, int, Any]] = []  # from engine threads, under _lock
        self._lock = threading.Lock()
        self._waking = False
        self._listener: ChannelListener | None = None
        self._channels: dict[bytes, DeltaChannel] = {}  # workers' token channels, by ZeroMQ routing id

    def bind(self) -> None:
        sock = self._ctx.socket(zmq.ROUTER)
        sock.setsockopt(zmq.ROUTER_MANDATORY, 1)  # a send to a worker that is gone raises, so we cancel its work
        # No high-water mark towards workers: a send then never waits for room, so every reply goes out at
        # once without a task per token (`_flush`). A worker's reader drains its socket continuously (its
        # replies are small and few); one that stops is restarted by the supervisor, which drops its pipe.
        sock.setsockopt(zmq.SNDHWM, 0)
        sock.setsockopt(zmq.LINGER, 0)
        path = self.endpoint.removeprefix("ipc://")
        tokens = channel_path(self.endpoint)
        for stale in (path, tokens):
            if os.path.exists(stale):
                os.unlink(stale)  # left by an engine process that was killed
        old = os.umask(0o177)
        try:
            sock.bind(self.endpoint)
            self._listener = ChannelListener(tokens, self._on_channel, self._on_channel_gone)
        finally:
            os.umask(old)
        self._sock = sock

    async def serve(self) -> None:
        if self._sock is None:
            self.bind()
        self._loop = asyncio.get_running_loop()
        self._reader = LoopReader(self._sock, self._loop, self._on_request, multipart=True)
        self._listener.start(self._loop)
        try:
            await asyncio.Future()  # requests are read by the callback until this is cancelled
        finally:
            self._reader.close()

    def _on_request(self, message: list[bytes]) -> None:
        ident, frame = message
        try:
            op, rid, payload = loads(frame)
        except Exception:  # one unreadable frame must not stop the others
            log.exception("unreadable request from a worker; dropped")
            return
        if op in (CHAT, COMPLETE):
            self._tasks[(ident, rid)] = asyncio.create_task(self._generate(ident, rid, op, payload))
        elif op == CANCEL:
            self._cancel((ident, rid))
        elif op == CALL:
            asyncio.create_task(self._call(ident, rid, *payload))

    def close(self) -> None:
        for key in list(self._tasks) + list(self._runs):
            self._cancel(key)
        for channel in self._channels.values():
            channel.close()
        self._channels.clear()
        if self._listener is not None:
            self._listener.close()
        if self._reader is not None:
            self._reader.close()
        if self._sock is not None:
            self._sock.close(linger=0)
        self._ctx.term()

    # --- generations ------------------------------------------------------------------------
    async def _generate(self, ident: bytes, rid: int, op: str, payload: tuple) -> None:
        request, specs = payload
        key = (ident, rid)
        try:
            request.logits_hooks = [self.hooks.build(s) for s in specs]
            backend = await self.registry.get(request.model)
            prepare = getattr(backend, "prepare_chat" if op == CHAT else "prepare_completion", None)
            if prepare is not None:  # the embedded engine: its thread sends the deltas on
                run = prepare(request)
                self._runs[key] = _Submitted(backend, run, Remaining(len(run.seqs)))
                channel = self._channels.get(ident)
                try:
                    if channel is not None and not channel.closed:
                        backend.submit(run, self._direct(key, run, channel), channel.flush)
                    else:
                        backend.submit(run, lambda item: self._post(ident, rid, item))
                except BaseException:
                    self._runs.pop(key, None)
                    raise
                return
            stream = backend.chat(request) if op == CHAT else backend.complete(request)
            try:
                async for delta in stream:
                    self._send(ident, rid, DELTAS, delta)
            finally:
                await stream.aclose()
        except asyncio.CancelledError:
            raise
        except Exception as e:  # every failure goes back to the worker as an OpenAI error
            self._fail(ident, rid, e)
        finally:
            self._tasks.pop(key, None)

    def _cancel(self, key: tuple[bytes, int]) -> None:
        task = self._tasks.pop(key, None)
        if task is not None:
            task.cancel()
        submitted = self._runs.pop(key, None)
        if submitted is not None:
            submitted.backend.cancel(submitted.run)  # its slot is free before the next decode step

    def _direct(self, key: tuple[bytes, int], run: Any, channel: DeltaChannel) -> Callable[[Any], None]:
        """The engine thread's delivery into a worker's channel: a delta or an error of a run, sent with
        the rest of its decode step (`channel.flush`). The loop hears of the run only when it is over."""
        rid = key[1]
        loop = self._loop

        def deliver(item: Any) -> None:
            if isinstance(item, BaseException):
                channel.put(rid, ERROR, _failure(item))
            else:
                channel.put(rid, DELTAS, compact(item))
                if not run.done:
                    return
            try:
                loop.call_soon_threadsafe(self._ended, key, run)
            except RuntimeError:  # the loop is closed: the process is stopping
                pass

        return deliver

    def _ended(self, key: tuple[bytes, int], run: Any) -> None:
        submitted = self._runs.get(key)
        if submitted is not None and submitted.run is run:
            del self._runs[key]

    def _on_channel(self, ident: bytes, channel: DeltaChannel) -> None:
        old = self._channels.get(ident)
        if old is not None:
            old.close()
        self._channels[ident] = channel

    def _on_channel_gone(self, ident: bytes, channel: DeltaChannel) -> None:
        """A worker's channel closed: the worker is gone (or stopped reading); stop its generations."""
        if self._channels.get(ident) is channel:
            del self._channels[ident]
            self._drop(ident)

    def _post(self, ident: bytes, rid: int, item: Any) -> None:
        """From an engine thread: a delta or an error of a run. Wakes the loop once for all that wait."""
        with self._lock:
            self._posted.append((ident, rid, item))
            if self._waking:
                return
            self._waking = True
        try:
            self._loop.call_soon_threadsafe(self._drain)
        except RuntimeError:  # the loop is closed: the process is stopping
            pass

    def _drain(self) -> None:
        with self._lock:
            posted, self._posted = self._posted, []
            self._waking = False
        for ident, rid, item in posted:
            key = (ident, rid)
            submitted = self._runs.get(key)
            if submitted is None:
                continue  # cancelled, or its worker is gone
            if isinstance(item, BaseException):
                del self._runs[key]
                self._fail(ident, rid, item, flush=False)
                continue
            if submitted.running.finish(item):
                del self._runs[key]  # its last choice: nothing more comes for it
            self._queue(ident, rid, DELTAS, item)
        self._flush()

    def _fail(self, ident: bytes, rid: int, e: BaseException, flush: bool = True) -> None:
        if flush:
            self._send(ident, rid, ERROR, _failure(e))
        else:
            self._queue(ident, rid, ERROR, _failure(e))

    # --- calls ------------------------------------------------------------------------------
    async def _call(self, ident: bytes, rid: int, method: str, args: tuple) -> None:
        try:
            if method not in CALLS:
                raise ApiError(500, f"The engine has no call {method!r}.", "api_error", "engine_error")
            result = await getattr(self, f"_call_{method}")(*args)
        except Exception as e:  # answered as an error, never left hanging
            self._fail(ident, rid, e)
            return
        self._send(ident, rid, RESULT, result)

    async def _call_ping(self) -> str:
        return "pong"

    async def _call_hello(self) -> dict[str, Any]:
        return {"pid": os.getpid(), "models": [m for b in self.registry.loaded().values() for m in b.models()]}

    async def _call_load(self, model: str) -> list:
        return (await self.registry.get(model)).models()

    async def _call_tokenize(self, model: str, text: str, special: bool, add_bos: bool | None) -> list[int]:
        return (await self.registry.get(model)).tokenize(text, special=special, add_bos=add_bos)

    async def _call_count_tokens(self, model: str, text: str | None, messages: list | None) -> int:
        return await (await self.registry.get(model)).count_tokens(model, text=text, messages=messages)

    async def _call_render_chat(self, model: str, request) -> str:
        return (await self.registry.get(model)).render_chat(request)

    async def _call_embed(self, model: str, inputs: list[str], input_type: str):
        return await (await self.registry.get(model)).embed(model, inputs, input_type)

    async def _call_e5(self, method: str, args: tuple):
        """The raw e5 engine (knowledge bases embed through it): query, passage, token_count, dim."""
        e5 = await self.registry.get(EMBEDDING_MODEL)
        engine = e5.engine
        if method == "dim":
            return int(engine.dim)
        if method not in ("query", "passage", "token_count"):
            raise ApiError(500, f"The e5 engine has no method {method!r}.", "api_error", "engine_error")

        def run():
            with e5.lock:
                return getattr(engine, method)(*args)

        return await asyncio.to_thread(run)

    async def _call_stats(self) -> dict[str, dict[str, int]]:
        out = {}
        for name, backend in self.registry.loaded().items():
            s = getattr(backend, "scheduler", None)
            if s is not None:
                out[name] = {"queue_depth": s.queue_depth, "active": s.active, "tokens_generated": s.tokens_generated}
        return out

    # --- replies, batched per worker ---------------------------------------------------------
    def _send(self, ident: bytes, rid: int, kind: str, payload: Any) -> None:
        self._queue(ident, rid, kind, payload)
        if not self._flushing:
            self._flushing = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _queue(self, ident: bytes, rid: int, kind: str, payload: Any) -> None:
        add_reply(self._outbox.setdefault(ident, []), rid, kind, compact(payload) if kind == DELTAS else payload)

    def _flush(self) -> None:
        """Send every worker's batch of replies: plain non-blocking sends, which never wait (no SNDHWM)."""
        self._flushing = False
        gone = []
        while self._outbox:
            ident = next(iter(self._outbox))
            items = self._outbox.pop(ident)
            try:
                self._sock.send_multipart([ident, dumps(items)], flags=zmq.NOBLOCK)
            except zmq.ZMQError as error:
                if error.errno != zmq.EHOSTUNREACH:
                    # Anything else (no room although SNDHWM is 0) loses replies: fail that worker's
                    # generations rather than leave them waiting for tokens that will not come.
                    log.error("could not send replies to a worker (%s); cancelling its generations", error)
                gone.append(ident)  # EHOSTUNREACH: the worker is gone
        if self._reader is not None:
            self._reader.after_send()
        for ident in gone:
            self._drop(ident)

    def _drop(self, ident: bytes) -> None:
        """The worker is gone: stop its generations so their slots serve the others."""
        gone = {key for key in [*self._tasks, *self._runs] if key[0] == ident}
        for key in gone:
            self._cancel(key)
        if gone:
            log.info("a worker went away; cancelled its %d generation(s)", len(gone))


def _failure(e: BaseException) -> tuple:
    """A failed request's error for the worker; one jaju did not raise itself is logged here first."""
    if not isinstance(e, JajuError):
        log.error("engine request failed", exc_info=e)
    return error_tuple(e)


def serve_forever(registry: ModelRegistry, endpoint: str, on_ready: Callable[[], None] | None = None,
                  every: Callable[[], None] | None = None) -> None:
    """Run the server on a fresh event loop until the process is told to stop (SIGTERM/SIGINT)."""
    import signal

    async def main() -> None:
        server = EngineServer(registry, endpoint)
        server.bind()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        task = asyncio.create_task(server.serve())
        if on_ready is not None:
            on_ready()
        while not stop.is_set():
            if every is not None:
                every()
            try:
                await asyncio.wait_for(stop.wait(), timeout=0.5)
            except TimeoutError:
                pass
        task.cancel()
        server.close()
        await registry.close()

    try:
        import uvloop  # libuv's loop, as the API workers run: cheaper per token than asyncio's selector loop
        factory = uvloop.new_event_loop
    except ImportError:  # Windows, or an install without it
        factory = None
    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(main())

