"""The API workers' uvicorn server ticks once a second, yet stops at once when told, and dates its answers."""

from __future__ import annotations

import asyncio
import signal
import socket

import httpx
import pytest
import uvicorn

from jaju.engine.ipc.processes import QuietServer

pytestmark = pytest.mark.anyio


async def hello(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": "안녕하세요".encode()})


async def test_a_stop_signal_ends_the_server_without_waiting_for_the_tick():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = QuietServer(uvicorn.Config(hello, lifespan="off", log_level="warning"))
    server.TICK = 3600.0  # were the signal not to wake the loop, the bounded wait below would run out
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with httpx.AsyncClient() as client:
            for _ in range(200):
                try:
                    r = await client.get(f"http://127.0.0.1:{port}/")
                    break
                except httpx.ConnectError:
                    await asyncio.sleep(0.05)
        assert r.text == "안녕하세요" and r.headers["date"].endswith("GMT")  # on_tick dated it at start
        # What uvicorn's SIGTERM handler calls. uvicorn raises each signal it captured again once the server
        # has stopped, so this test hands it SIGWINCH, which a process ignores, in place of SIGTERM.
        server.handle_exit(signal.SIGWINCH, None)
        await asyncio.wait_for(task, 30)
    finally:
        if not task.done():
            task.cancel()
        sock.close()
    assert task.exception() is None
