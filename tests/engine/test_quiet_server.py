"""The API workers' uvicorn server ticks once a second, yet stops at once when told, and dates its answers."""

from __future__ import annotations

import asyncio
import signal
import socket

import httpx
import pytest
import uvicorn

from jaju.engine.ipc.processes import QuietServer, server_config
from jaju.settings import Settings

pytestmark = pytest.mark.anyio


async def hello(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": "안녕하세요".encode()})


async def _serve(config: uvicorn.Config, tick: float | None = None):
    """A QuietServer on a free port, started; (server, its task, port)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = QuietServer(config)
    if tick is not None:
        server.TICK = tick
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started and not task.done():
        await asyncio.sleep(0.02)
    return server, task, sock.getsockname()[1]


async def test_a_stop_signal_ends_the_server_without_waiting_for_the_tick():
    # TICK: were the signal not to wake the loop, the bounded wait below would run out.
    server, task, port = await _serve(uvicorn.Config(hello, lifespan="off", log_level="warning"), tick=3600.0)
    try:
        async with httpx.AsyncClient() as client:
            r = await client.get(f"http://127.0.0.1:{port}/")
        assert r.text == "안녕하세요" and r.headers["date"].endswith("GMT")  # on_tick dated it at start
        # What uvicorn's SIGTERM handler calls. uvicorn raises each signal it captured again once the server
        # has stopped, so this test hands it SIGWINCH, which a process ignores, in place of SIGTERM.
        server.handle_exit(signal.SIGWINCH, None)
        await asyncio.wait_for(task, 30)
    finally:
        if not task.done():
            task.cancel()
    assert task.exception() is None


async def with_lifespan(scope, receive, send):
    """`hello`, plus the lifespan protocol that a worker's config turns on."""
    if scope["type"] != "lifespan":
        return await hello(scope, receive, send)
    while (await receive())["type"] != "lifespan.shutdown":
        await send({"type": "lifespan.startup.complete"})
    await send({"type": "lifespan.shutdown.complete"})


async def _asks_again_after(port: int, idle: float) -> bytes:
    """One request, `idle` seconds of silence, a second request on the same connection; what came back."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = b"GET / HTTP/1.1\r\nhost: x\r\n\r\n"
    try:
        writer.write(request)
        first = await reader.readuntil(b"\r\n0\r\n\r\n")  # the chunked body's end
        assert first.startswith(b"HTTP/1.1 200")
        await asyncio.sleep(idle)
        writer.write(request)
        return await asyncio.wait_for(reader.read(4096), 5)
    finally:
        writer.close()


async def test_an_idle_connection_outlives_the_clients_own_keep_alive():
    """httpx and the openai client reuse a connection idle for up to 5 s: the server must not close it first.

    The control is uvicorn's own default (5 s), under which the same second request finds the connection
    closed (b"" read), the race that showed as a ReadError under load.
    """
    ours, ours_task, ours_port = await _serve(server_config(with_lifespan, Settings()))
    stock, stock_task, stock_port = await _serve(uvicorn.Config(hello, lifespan="off", log_level="warning"))
    try:
        again, control = await asyncio.gather(_asks_again_after(ours_port, 5.5), _asks_again_after(stock_port, 5.5))
    finally:
        for server in (ours, stock):
            server.should_exit = True
        await asyncio.gather(ours_task, stock_task)
    assert again.startswith(b"HTTP/1.1 200") and "안녕하세요".encode() in again
    assert control == b""
