"""The engine process: the models and their continuous batching, serving every API worker over ZeroMQ.

One ROUTER socket; each worker is a DEALER. A generation runs as one task on this process's loop,
feeding the existing `LlamaEngine`, so requests from all workers share one batch. Replies are
batched per worker: every delta that is ready when the loop comes round goes out in one frame, which
keeps the cost of the hop per token low when many streams run at once.

A worker that goes away (killed, restarted) is noticed on the next send (ROUTER_MANDATORY): its
generations are cancelled and their sequence slots freed at once.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from typing import Any

import zmq
import zmq.asyncio

from jaju.compliance.watermark import WatermarkHook
from jaju.engine.base import LogitsHook
from jaju.engine.bias import LogitBiasHook
from jaju.engine.catalog import EMBEDDING_MODEL
from jaju.engine.ipc.wire import (CALL, CALLS, CANCEL, CHAT, COMPLETE, DELTAS, ERROR, RESULT, dumps, error_tuple,
                                  loads)
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


class EngineServer:
    """Answers workers' generations and calls from one ModelRegistry."""

    def __init__(self, registry: ModelRegistry, endpoint: str):
        self.registry = registry
        self.endpoint = endpoint
        self.hooks = HookCache()
        self._ctx = zmq.asyncio.Context()
        self._sock: zmq.asyncio.Socket | None = None
        self._tasks: dict[tuple[bytes, int], asyncio.Task] = {}
        self._outbox: dict[bytes, list[list]] = {}
        self._flushing = False

    def bind(self) -> None:
        sock = self._ctx.socket(zmq.ROUTER)
        sock.setsockopt(zmq.ROUTER_MANDATORY, 1)  # a send to a worker that is gone raises, so we cancel its work
        # No high-water mark towards workers: a send then never waits for room, so every reply goes out at
        # once without a task per token (`_flush`). A worker's reader drains its socket continuously (its
        # replies are small and few); one that stops is restarted by the supervisor, which drops its pipe.
        sock.setsockopt(zmq.SNDHWM, 0)
        sock.setsockopt(zmq.LINGER, 0)
        path = self.endpoint.removeprefix("ipc://")
        if os.path.exists(path):
            os.unlink(path)  # left by an engine process that was killed
        old = os.umask(0o177)
        try:
            sock.bind(self.endpoint)
        finally:
            os.umask(old)
        self._sock = sock

    async def serve(self) -> None:
        if self._sock is None:
            self.bind()
        sock = self._sock
        while True:
            ident, frame = await sock.recv_multipart()
            op, rid, payload = loads(frame)
            if op in (CHAT, COMPLETE):
                self._tasks[(ident, rid)] = asyncio.create_task(self._generate(ident, rid, op, payload))
            elif op == CANCEL:
                task = self._tasks.pop((ident, rid), None)
                if task is not None:
                    task.cancel()
            elif op == CALL:
                asyncio.create_task(self._call(ident, rid, *payload))

    def close(self) -> None:
        for task in self._tasks.values():
            task.cancel()
        if self._sock is not None:
            self._sock.close(linger=0)
        self._ctx.term()

    # --- generations ------------------------------------------------------------------------
    async def _generate(self, ident: bytes, rid: int, op: str, payload: tuple) -> None:
        request, specs = payload
        try:
            request.logits_hooks = [self.hooks.build(s) for s in specs]
            backend = await self.registry.get(request.model)
            stream = backend.chat(request) if op == CHAT else backend.complete(request)
            try:
                async for delta in stream:
                    self._send(ident, rid, DELTAS, delta)
            finally:
                await stream.aclose()  # on cancel: LlamaEngine frees the sequence slot here
        except asyncio.CancelledError:
            raise
        except Exception as e:  # every failure goes back to the worker as an OpenAI error
            self._fail(ident, rid, e)
        finally:
            self._tasks.pop((ident, rid), None)

    def _fail(self, ident: bytes, rid: int, e: Exception) -> None:
        if not isinstance(e, JajuError):
            log.exception("engine request failed")
        self._send(ident, rid, ERROR, error_tuple(e))

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
        box = self._outbox.setdefault(ident, [])
        if kind == DELTAS:
            if box and box[-1][0] == rid and box[-1][1] == DELTAS:
                box[-1][2].append(payload)
            else:
                box.append([rid, DELTAS, [payload]])
        else:
            box.append([rid, kind, payload])
        if not self._flushing:
            self._flushing = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        """Send every worker's batch of replies; a plain callback, since a send never waits (no SNDHWM)."""
        self._flushing = False
        while self._outbox:
            ident = next(iter(self._outbox))
            items = self._outbox.pop(ident)
            # pyzmq tries a non-blocking send at once and returns a future that is already done.
            sent = self._sock.send_multipart([ident, dumps(items)], flags=zmq.NOBLOCK)
            if sent.done():
                self._sent(ident, sent)
            else:  # only if a send were ever left waiting on this socket; handled the same way, later
                sent.add_done_callback(lambda f, ident=ident: self._sent(ident, f))

    def _sent(self, ident: bytes, sent: asyncio.Future) -> None:
        error = None if sent.cancelled() else sent.exception()
        if error is None:
            return
        if isinstance(error, zmq.ZMQError) and error.errno == zmq.EHOSTUNREACH:
            self._drop(ident)  # the worker is gone
            return
        # Anything else (no room although SNDHWM is 0) loses replies: fail that worker's generations
        # rather than leave them waiting for tokens that will not come.
        log.error("could not send replies to a worker (%s); cancelling its generations", error)
        self._drop(ident)

    def _drop(self, ident: bytes) -> None:
        """The worker is gone: stop its generations so their slots serve the others."""
        gone = [key for key in self._tasks if key[0] == ident]
        for key in gone:
            self._tasks.pop(key).cancel()
        if gone:
            log.info("a worker went away; cancelled its %d generation(s)", len(gone))


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

