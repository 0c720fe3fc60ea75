"""Http1Transport: a lean HTTP/1.1 httpx transport for jaju's calls to upstream model servers.

Every generation request a RemoteBackend sends goes to an OpenAI-compatible server (vLLM, llama-server)
over plain HTTP/1.1. httpx's default transport (httpcore, anyio and h11) spends about 0.6 ms of CPU on
each such request; asyncio streams and the httptools parser (llhttp, already a dependency through
uvicorn) do the same work in a fraction of that. EgressGuard wraps this transport by default.

What it does: HTTP/1.1 over `asyncio.open_connection` (uvloop or the default loop); https with the
system's trust store and the host name checked; keep-alive pools per (scheme, host, port); response
bodies handed on as they arrive (SSE is never buffered); httpx's timeouts (connect, read for each wait
for bytes, write) and httpx's exceptions, so callers cannot tell the two transports apart.

Pooling: a connection goes back to its pool only once its response was read to the end and neither side
said `Connection: close`; at most `max_idle` idle connections per origin are kept, each for at most
`idle_expiry` seconds (4 s: below the 5 s keep-alive timeout of uvicorn, hence vLLM, and of llama-server).
A caller that stops reading early, an error, or a cancelled task closes the connection instead.

Retrying: a request sent on a pooled connection that the server had closed meanwhile fails at once (the
write fails, or the connection ends or is reset before a single byte of the response). Such a request is
sent again, once, on a new connection, provided its body is in memory (json=, content=bytes). The server
may have received the first copy; one that closes without answering has not acted on it in practice, and
an OpenAI-style generation has no side effect to repeat. Nothing is retried once a response byte arrived,
after a timeout, or on a fresh connection.

Concurrency: at most `max_active` requests per origin are in flight at once (100, as httpx's default
max_connections); a request beyond that waits for one to finish, for at most httpx's `pool` timeout, and
then fails with httpx.PoolTimeout. So a burst never opens more connections to one upstream than that.

Not supported: HTTP/2, proxies (HTTP(S)_PROXY in the environment is ignored), `Expect: 100-continue`,
protocol upgrades (101) and pipelining.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httptools
import httpx

MAX_IDLE = 100  # idle connections kept per origin (httpx keeps 20 in all)
MAX_ACTIVE = 100  # requests in flight per origin (httpx's default max_connections)
IDLE_EXPIRY = 4.0
_READ_SIZE = 65536

Origin = tuple[str, str, int]


class _Stale(Exception):
    """A pooled connection turned out closed before any of the response arrived: send again on a new one."""


class _Connection:
    __slots__ = ("reader", "writer", "origin", "loop", "idle_since")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, origin: Origin):
        self.reader, self.writer, self.origin = reader, writer, origin
        self.loop = asyncio.get_running_loop()
        self.idle_since = 0.0

    def usable(self, now: float, expiry: float) -> bool:
        # An idle connection the server closed shows as EOF (or a closing transport) without any read. One made
        # on another event loop (a client used from a second asyncio.run) cannot be read on this one.
        return (now - self.idle_since < expiry and self.loop is asyncio.get_running_loop()
                and not self.reader.at_eof() and not self.writer.is_closing())

    def close(self) -> None:
        if not self.loop.is_closed():  # a closed loop took its sockets with it
            self.writer.close()


class _Reply:
    """httptools callbacks for one response: status, headers, body pieces, and whether it is complete."""

    def __init__(self, request: httpx.Request, keep_alive: bool):
        self.request = request
        self.head_only = request.method == "HEAD"
        self.parser: Any = httptools.HttpResponseParser(self)
        self.status, self.reason, self.version = 0, b"", b"HTTP/1.1"
        self.headers: list[tuple[bytes, bytes]] = []
        self.body: list[bytes] = []
        self.received = 0
        self.head_done = self.complete = False
        self.keep_alive = keep_alive

    def feed(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except (httptools.HttpParserError, httptools.HttpParserUpgrade) as e:
            raise httpx.RemoteProtocolError(f"The upstream's response is not valid HTTP/1.1 ({e})",
                                            request=self.request) from e

    def ends_at_eof(self) -> bool:
        """Whether the body is delimited by the server closing the connection (no length, not chunked)."""
        framing = {name.lower(): value.strip().lower() for name, value in self.headers}
        return (self.head_done and b"content-length" not in framing
                and not framing.get(b"transfer-encoding", b"").endswith(b"chunked"))

    def cut_short(self) -> httpx.RemoteProtocolError:
        """The error for a connection that ended in the middle of the body."""
        framing = dict((name.lower(), value) for name, value in self.headers)
        if b"content-length" in framing:
            detail = f"{self.received} of {framing[b'content-length'].decode('latin-1')} body bytes received"
        else:
            detail = f"in a chunked body, after {self.received} bytes"
        return httpx.RemoteProtocolError(f"The upstream closed the connection before the response was complete "
                                         f"({detail})", request=self.request)

    # --- httptools callbacks ---------------------------------------------------------------
    def on_message_begin(self) -> None:
        if self.complete:  # bytes after the response: this connection cannot be trusted again
            self.keep_alive = False

    def on_status(self, reason: bytes) -> None:
        self.reason += reason

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        status = self.parser.get_status_code()
        if 100 <= status < 200:  # informational (103 Early Hints): the real response follows
            self.headers, self.reason = [], b""
            return
        self.status, self.head_done = status, True
        self.version = b"HTTP/" + self.parser.get_http_version().encode()
        if self.head_only:  # llhttp cannot know the request was HEAD; a Content-Length here has no body
            self._finish()

    def on_body(self, data: bytes) -> None:
        if self.complete:
            self.keep_alive = False
        else:
            self.received += len(data)
            self.body.append(data)

    def on_message_complete(self) -> None:
        if self.head_done and not self.complete:
            self._finish()

    def _finish(self) -> None:
        self.complete = True
        # Only valid inside a callback: llhttp resets its flags once the message is done.
        self.keep_alive = self.keep_alive and self.parser.should_keep_alive()
        self.parser = None  # the parser refers to us; let both go without the cycle collector


class _Body(httpx.AsyncByteStream):
    """A response body as it arrives; its connection goes back to the pool once the body was read to the end."""

    def __init__(self, transport: Http1Transport, conn: _Connection, reply: _Reply, read_timeout: float | None,
                 done: Callable[[], None]):
        self._transport, self._conn, self._reply, self._timeout = transport, conn, reply, read_timeout
        self._done: Callable[[], None] | None = done  # frees the request's place among the origin's active ones
        if reply.complete:  # the whole response came with its head: the connection is free already
            self._release()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        reply = self._reply
        try:
            while True:
                if reply.body:
                    pieces, reply.body = reply.body, []
                    yield pieces[0] if len(pieces) == 1 else b"".join(pieces)
                if reply.complete or self._conn is None:
                    self._release()
                    return
                data = await _recv(self._conn, self._timeout, reply.request)
                if data:
                    reply.feed(data)
                elif reply.ends_at_eof():
                    reply.complete, reply.keep_alive, reply.parser = True, False, None
                else:
                    raise reply.cut_short()
        except BaseException:
            self._discard()
            raise

    async def aclose(self) -> None:
        if self._reply.complete:
            self._release()
        else:
            self._discard()  # the caller stopped early: what is left of the body is never read

    def _release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            self._transport._put_back(conn, self._reply.keep_alive)
        self._finish()

    def _discard(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()
        self._finish()

    def _finish(self) -> None:
        done, self._done = self._done, None
        if done is not None:
            done()


class Http1Transport(httpx.AsyncBaseTransport):
    """HTTP/1.1 with keep-alive pools per origin, on asyncio streams and httptools; see the module docstring."""

    def __init__(self, *, ssl_context: ssl.SSLContext | None = None, max_idle: int = MAX_IDLE,
                 idle_expiry: float = IDLE_EXPIRY, max_active: int = MAX_ACTIVE):
        self._ssl = ssl_context
        self._max_idle, self._expiry, self._max_active = max_idle, idle_expiry, max_active
        self._idle: dict[Origin, list[_Connection]] = {}
        # Per event loop and origin: an asyncio.Semaphore belongs to the loop it first waited on.
        self._active: dict[tuple[int, Origin], asyncio.Semaphore] = {}
        self._closed = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme not in ("http", "https"):
            raise httpx.UnsupportedProtocol(f"Http1Transport speaks http and https, not '{url.scheme}'.",
                                            request=request)
        origin = (url.scheme, url.raw_host.decode("ascii"), url.port or (443 if url.scheme == "https" else 80))
        timeout = request.extensions.get("timeout") or {}
        body = b"".join(request.stream) if isinstance(request.stream, httpx.ByteStream) else None
        slot = await self._admit(origin, timeout.get("pool"), request)
        try:
            conn = self._take(origin)
            reply = None
            if conn is not None:
                try:
                    reply = await self._exchange(conn, request, body, timeout, stale_ok=body is not None)
                except _Stale:
                    pass
            if reply is None:
                conn = await self._connect(origin, timeout.get("connect"), request)
                reply = await self._exchange(conn, request, body, timeout, stale_ok=False)
        except BaseException:
            slot.release()
            raise
        return httpx.Response(reply.status, headers=reply.headers,
                              stream=_Body(self, conn, reply, timeout.get("read"), slot.release),
                              extensions={"http_version": reply.version, "reason_phrase": reply.reason})

    async def _admit(self, origin: Origin, timeout: float | None, request: httpx.Request) -> asyncio.Semaphore:
        """A place among the origin's `max_active` requests in flight, waiting at most the pool timeout."""
        key = (id(asyncio.get_running_loop()), origin)
        slot = self._active.get(key)
        if slot is None:
            slot = self._active[key] = asyncio.Semaphore(self._max_active)
        if not slot.locked():
            await slot.acquire()  # a free place: no timer to arm
            return slot
        try:
            async with asyncio.timeout(timeout):
                await slot.acquire()
        except TimeoutError as e:
            raise httpx.PoolTimeout(f"{self._max_active} requests to {origin[1]}:{origin[2]} were already in flight "
                                    f"and none finished within the pool timeout ({timeout} s).",
                                    request=request) from e
        return slot

    async def aclose(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, {}
        for conns in idle.values():
            for conn in conns:
                conn.close()

    # --- connections ------------------------------------------------------------------------
    def _take(self, origin: Origin) -> _Connection | None:
        idle = self._idle.get(origin)
        now = time.monotonic()
        while idle:
            conn = idle.pop()  # the most recently used: the least likely to have been closed by the server
            if conn.usable(now, self._expiry):
                return conn
            conn.close()
        return None

    def _put_back(self, conn: _Connection, keep_alive: bool) -> None:
        idle = self._idle.setdefault(conn.origin, [])
        if not keep_alive or self._closed or len(idle) >= self._max_idle or conn.reader.at_eof():
            conn.close()
            return
        conn.idle_since = now = time.monotonic()
        while idle and now - idle[0].idle_since >= self._expiry:  # the oldest ones are of no use any more
            idle.pop(0).close()
        idle.append(conn)

    def _tls(self) -> ssl.SSLContext:
        if self._ssl is None:
            self._ssl = ssl.create_default_context()
        return self._ssl

    async def _connect(self, origin: Origin, timeout: float | None, request: httpx.Request) -> _Connection:
        scheme, host, port = origin
        tls = self._tls() if scheme == "https" else None
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(host, port, ssl=tls,
                                                               server_hostname=host if tls else None)
        except TimeoutError as e:  # before OSError: TimeoutError is one
            raise httpx.ConnectTimeout(f"Connecting to {host}:{port} took longer than {timeout} s.",
                                       request=request) from e
        except OSError as e:  # refused, unreachable, DNS, TLS
            raise httpx.ConnectError(f"Could not connect to {host}:{port}: {e}", request=request) from e
        return _Connection(reader, writer, origin)

    # --- one exchange -----------------------------------------------------------------------
    async def _exchange(self, conn: _Connection, request: httpx.Request, body: bytes | None,
                        timeout: dict[str, float | None], *, stale_ok: bool) -> _Reply:
        """Send the request and read its response up to the end of the head; any failure closes the connection."""
        try:
            try:
                await _send(conn.writer, request, body, timeout.get("write"))
            except httpx.WriteError:
                if stale_ok:
                    raise _Stale from None
                raise
            reply = _Reply(request, keep_alive="close" not in request.headers.get("connection", "").lower())
            started = False
            while not reply.head_done:
                try:
                    data = await _recv(conn, timeout.get("read"), request)
                except httpx.ReadError:
                    if stale_ok and not started:
                        raise _Stale from None
                    raise
                if not data:
                    if stale_ok and not started:
                        raise _Stale
                    raise httpx.RemoteProtocolError(
                        "The upstream closed the connection " + ("in the middle of the response head." if started
                                                                 else "without sending a response."), request=request)
                started = True
                reply.feed(data)
            return reply
        except BaseException:
            conn.close()
            raise


def _head(request: httpx.Request, body: bytes | None) -> bytes:
    """The request line and headers: the request's own (httpx has added Host and the body's framing)."""
    headers = request.headers.raw
    names = {name.lower() for name, _ in headers}
    lines = [b"%s %s HTTP/1.1\r\n" % (request.method.encode("ascii"), request.url.raw_path)]
    if b"host" not in names:
        lines.append(b"Host: %s\r\n" % request.url.netloc)
    lines += [b"%s: %s\r\n" % pair for pair in headers]
    if b"content-length" not in names and b"transfer-encoding" not in names:
        if body is None:
            lines.append(b"Transfer-Encoding: chunked\r\n")
        elif body or request.method in ("POST", "PUT", "PATCH"):
            lines.append(b"Content-Length: %d\r\n" % len(body))
    lines.append(b"\r\n")
    head = b"".join(lines)
    if head.count(b"\n") != len(lines) or head.count(b"\r") != len(lines):
        raise httpx.LocalProtocolError("A request header contains a line break.", request=request)
    return head


async def _send(writer: asyncio.StreamWriter, request: httpx.Request, body: bytes | None,
                timeout: float | None) -> None:
    head = _head(request, body)
    try:
        if body is not None:
            writer.writelines((head, body))
            await _drain(writer, timeout)
            return
        framing = request.headers.get("transfer-encoding", "").lower()
        chunked = "chunked" in framing or ("content-length" not in request.headers and not framing)
        writer.write(head)
        async for part in request.stream:
            if part:
                writer.write(b"%x\r\n%s\r\n" % (len(part), part) if chunked else part)
                await _drain(writer, timeout)
        if chunked:
            writer.write(b"0\r\n\r\n")
        await _drain(writer, timeout)
    except TimeoutError as e:  # before OSError: TimeoutError is one
        raise httpx.WriteTimeout(f"Sending the request took longer than the write timeout ({timeout} s).",
                                 request=request) from e
    except OSError as e:
        raise httpx.WriteError(f"Sending the request failed: {e!r}", request=request) from e


async def _drain(writer: asyncio.StreamWriter, timeout: float | None) -> None:
    if timeout is None or not writer.transport.get_write_buffer_size():
        await writer.drain()  # returns at once unless the socket's buffer is full
        return
    async with asyncio.timeout(timeout):
        await writer.drain()


async def _recv(conn: _Connection, timeout: float | None, request: httpx.Request) -> bytes:
    """The next bytes from the server (b"" at EOF) within the read timeout."""
    try:
        if timeout is None:
            return await conn.reader.read(_READ_SIZE)
        async with asyncio.timeout(timeout):
            return await conn.reader.read(_READ_SIZE)
    except TimeoutError as e:  # before OSError: TimeoutError is one
        raise httpx.ReadTimeout(f"The upstream sent nothing for {timeout} s (the read timeout).",
                                request=request) from e
    except OSError as e:
        raise httpx.ReadError(f"Reading the response failed: {e!r}", request=request) from e
