"""How `jaju serve` listens: Nagle off on accepted connections, a clear error for a port in use, and with
several workers one SO_REUSEPORT group that the kernel spreads connections over."""

from __future__ import annotations

import asyncio
import pickle
import socket

import pytest

from jaju.engine.ipc.listening import BALANCED_GROUPS, Listeners, listen
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


# --- several workers: one SO_REUSEPORT group --------------------------------------------------------
group_only = pytest.mark.skipif(not BALANCED_GROUPS, reason="SO_REUSEPORT spreads connections on Linux only")


def _accepted(sock: socket.socket) -> int:
    sock.setblocking(False)
    n = 0
    while True:
        try:
            conn, _ = sock.accept()
        except BlockingIOError:
            return n
        conn.close()
        n += 1


@group_only
def test_the_kernel_spreads_connections_over_the_workers_sockets():
    listeners = Listeners("127.0.0.1", 0, 2)
    member = listeners.for_worker()
    socks = [member.bind(), member.bind()]
    try:
        assert not listeners.accepting()  # bound, not listening: no connection goes to a worker not started
        for s in socks:
            s.listen(64)  # what the worker's server does once the app has started
        clients = [socket.create_connection(("127.0.0.1", listeners.port)) for _ in range(32)]
        counts = [_accepted(s) for s in socks]
        assert sum(counts) == 32
        assert min(counts) >= 4, counts  # <= 3 of 32 by the kernel's hash: odds of about 3 in a million
        for c in clients:
            c.close()
    finally:
        for s in socks:
            s.close()
        listeners.close()


@group_only
def test_a_port_the_group_holds_is_refused_to_anyone_else():
    listeners = Listeners("127.0.0.1", 0, 2)
    try:
        with pytest.raises(JajuError, match="choose another --port"):
            listen("127.0.0.1", listeners.port)  # a plain socket
        with pytest.raises(JajuError, match="choose another --port"):
            Listeners("127.0.0.1", listeners.port, 2)  # a second `jaju serve --workers 2`
    finally:
        listeners.close()


@group_only
def test_a_port_someone_else_holds_is_refused_to_the_group():
    taken = listen("127.0.0.1", 0)
    try:
        with pytest.raises(JajuError, match="choose another --port"):
            Listeners("127.0.0.1", taken.getsockname()[1], 2)
    finally:
        taken.close()


def test_one_worker_listens_on_one_shared_socket():
    listeners = Listeners("127.0.0.1", 0, 1)
    try:
        sock = listeners.for_worker()
        assert isinstance(sock, socket.socket) and not listeners.balanced
        assert sock.getsockname()[1] == listeners.port
    finally:
        listeners.close()
