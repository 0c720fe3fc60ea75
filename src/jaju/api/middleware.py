"""ASGI middleware: clean endings for unexpected errors, body size limit and per-route metrics."""

from __future__ import annotations

import json
import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jaju.errors import ApiError, ServiceError
from jaju.metrics import Metrics

log = logging.getLogger("jaju.api")
INTERNAL = ApiError(500, "Internal error; the operator's log has the details.", "api_error", "internal_error")
INVALID_UNICODE = ApiError(400, "The request holds text that is not valid Unicode (a lone UTF-16 surrogate).",
                           "invalid_request_error", "invalid_unicode")


class CleanErrors:
    """End every request with a complete response, whatever was raised, so keep-alive connections survive.

    Starlette's ServerErrorMiddleware sends its 500 and then re-raises for the server to log, and uvicorn
    closes the connection on a re-raised exception: the client's next, innocent request on it fails.
    Here the error is logged and ends: before the response started, a 500 in OpenAI's shape; inside an
    event stream, a final `error` event and a clean end of the stream. Any other response that already
    started cannot be completed honestly, so that one is re-raised (and the connection closed).
    """

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = {"started": False, "sse": False, "done": False}

        async def tracking_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["started"] = True
                ctype = dict(message.get("headers", ())).get(b"content-type", b"")
                state["sse"] = ctype.startswith(b"text/event-stream")
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                state["done"] = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if state["done"]:  # the client has its whole answer; only the log needs this
                log.exception("error after the response to %s %s completed", scope["method"], scope["path"])
                return
            error = _classify(exc, scope)
            if not state["started"]:
                await _send_json(send, error)
            elif state["sse"]:
                await send({"type": "http.response.body", "more_body": False,
                            "body": b"data: " + json.dumps(error.body()).encode() + b"\n\n"})
            else:
                raise


def _classify(exc: Exception, scope: Scope) -> ServiceError:
    """The error to send for an unexpected exception (a ServiceError raised after a stream began keeps its own)."""
    for e in (exc, exc.__cause__, exc.__context__):
        if isinstance(e, ServiceError):
            return e
    # Text with a lone surrogate that some route let through: the client's mistake, not the server's.
    if isinstance(exc, UnicodeEncodeError) and exc.reason == "surrogates not allowed":
        log.warning("text with a lone surrogate reached %s %s; refused with 400", scope["method"], scope["path"])
        return INVALID_UNICODE
    log.exception("unhandled error on %s %s", scope["method"], scope["path"])
    return INTERNAL


async def _send_json(send: Send, error: ServiceError) -> None:
    body = json.dumps(error.body()).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    headers += [(k.lower().encode("latin-1"), str(v).encode("latin-1")) for k, v in error.headers.items()]
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """Refuse bodies over the limit with 413, by Content-Length or while streaming in.

    Paths under one of `uploads` (document uploads) get `upload_limit` instead.
    """

    def __init__(self, app: ASGIApp, limit: int, upload_limit: int | None = None, uploads: tuple[str, ...] = ()):
        self.app = app
        self.default = limit
        self.upload_limit = upload_limit or limit
        self.uploads = uploads

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.upload_limit if scope["path"].startswith(self.uploads) and self.uploads else self.default
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._reject(send, limit)
            return
        seen = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _TooLarge()
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await self._reject(send, limit)

    async def _reject(self, send: Send, limit: int) -> None:
        await _send_json(send, ApiError(413, f"The request body is larger than {limit} bytes.",
                                        "invalid_request_error", "request_too_large"))


class _TooLarge(Exception):
    pass


class RequestMetrics:
    """Count and time requests by route template (not raw path, to keep label cardinality bounded)."""

    def __init__(self, app: ASGIApp, metrics: Metrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def tracking_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", "unmatched")
            self.metrics.requests.labels(path, str(status)).inc()
            self.metrics.latency.labels(path).observe(time.perf_counter() - started)
