"""The shared listening socket of `jaju serve`: connections accepted on it send without Nagle's delay."""

from __future__ import annotations

import asyncio
import pickle
import socket

import pytest

from jaju.engine.ipc.supervisor import listen
from jaju.errors import JajuError

pytestmark = pytest.mark.anyio


async def _nodelay_of_accepted(sock: socket.socket) -> int:
    seen: asyncio.Future = asyncio.get_running_loop().create_future()

    def accepted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = writer.get_extra_info("socket")
        seen.set_result(conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        writer.close()

    server = await asyncio.start_server(accepted, sock=sock)
    host, port = sock.getsockname()[:2]
    _, writer = await asyncio.open_connection(host, port)
    try:
        return await asyncio.wait_for(seen, 5)
    finally:
        writer.close()
        server.close()
        await server.wait_closed()


async def test_accepted_connections_have_nagle_off():
    # With Nagle on, a response written as headers then body waits ~40 ms for the client's delayed ACK.
    assert await _nodelay_of_accepted(listen("127.0.0.1", 0)) != 0


async def test_the_copy_a_worker_receives_keeps_nagle_off():
    # Workers get the socket pickled through multiprocessing (spawn); the copy must still say TCP.
    sock = listen("127.0.0.1", 0)
    from multiprocessing.reduction import ForkingPickler

    copy = pickle.loads(ForkingPickler.dumps(sock))
    assert copy.proto == socket.IPPROTO_TCP
    assert await _nodelay_of_accepted(copy) != 0
    sock.close()


async def test_a_plain_socket_would_not_have_had_it():
    # The control: asyncio leaves Nagle on for an accepted socket whose proto is 0 (what the old code made).
    plain = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    plain.bind(("127.0.0.1", 0))
    plain.listen(8)
    assert await _nodelay_of_accepted(plain) == 0


def test_a_port_in_use_is_a_plain_sentence():
    taken = listen("127.0.0.1", 0)
    try:
        with pytest.raises(JajuError, match="choose another --port"):
            listen("127.0.0.1", taken.getsockname()[1])
    finally:
        taken.close()
