"""The token channel (engine thread -> worker): frames whole and in order, never a blocked engine thread.

Real unix sockets; the writing side runs on a plain thread as an engine thread does, the reading side
on the test's event loop.
"""

from __future__ import annotations

import asyncio
import socket
import threading

import pytest

from jaju.engine.ipc import channel as ch
from jaju.engine.ipc.channel import ChannelListener, ChannelReader, DeltaChannel, Frames, frame
from jaju.engine.ipc.wire import loads

pytestmark = pytest.mark.anyio


def test_frames_are_cut_back_out_of_any_chunking():
    items = [[[i, "d", [("안녕하세요 " * (i % 7), 0)]]] for i in range(50)]
    stream = b"".join(frame(x) for x in items)
    for size in (1, 3, 4, 5, 17, 1000, len(stream)):
        frames = Frames()
        got = []
        for at in range(0, len(stream), size):
            got += [loads(f) for f in frames.feed(stream[at:at + size])]
        assert got == items, size


async def pair(sndbuf: int | None = None):
    """(engine end as a DeltaChannel, worker end as a plain socket, broken-callback counter)."""
    engine, worker = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    if sndbuf:
        engine.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
        worker.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, sndbuf)
    broken = []
    channel = DeltaChannel(engine, asyncio.get_running_loop(), lambda: broken.append(1))
    return channel, worker, broken


def from_thread(fn) -> None:
    """Run `fn` on a thread of its own, as an engine thread; it must finish (never wait for the reader)."""
    t = threading.Thread(target=fn)
    t.start()
    t.join(30)
    assert not t.is_alive(), "the writing thread waited for the reader"


async def soon(check, seconds: float = 5) -> None:
    """Let the loop run until `check()` holds (callbacks the engine side scheduled), or `seconds` pass."""
    for _ in range(int(seconds / 0.01)):
        if check():
            return
        await asyncio.sleep(0.01)


async def read_all(sock: socket.socket, frames_wanted: int) -> list:
    sock.setblocking(False)
    loop = asyncio.get_running_loop()
    frames, got = Frames(), []
    while len(got) < frames_wanted:
        data = await asyncio.wait_for(loop.sock_recv(sock, 65536), 30)
        assert data, "the channel closed early"
        got += [loads(f) for f in frames.feed(data)]
    return got


async def test_a_reader_that_lags_gets_everything_in_order_and_the_writer_never_waits():
    channel, worker, broken = await pair(sndbuf=4096)
    steps = 400
    text = "가나다라마바사아자차카타파하" * 20  # 840 bytes a delta: far more than the socket holds

    def engine_thread():
        for step in range(steps):
            channel.put(1, "d", (f"{step}:{text}", 0))
            channel.put(2, "d", (f"{step}", 1))
            channel.flush()

    from_thread(engine_thread)  # nobody has read anything yet
    got = await read_all(worker, steps)
    assert [g[0][2][0][0] for g in got] == [f"{s}:{text}" for s in range(steps)]
    assert [g[1] for g in got] == [[2, "d", [(f"{s}", 1)]] for s in range(steps)]
    assert not broken and not channel.closed
    channel.close()
    worker.close()


async def test_deltas_of_one_request_in_one_step_share_an_entry():
    channel, worker, _ = await pair()
    channel.put(7, "d", ("서울", 0))
    channel.put(7, "d", ("은", 0))
    channel.put(8, "e", (500, "x", "api_error", None, None, {}))
    channel.put(7, "d", ("요", 0))
    channel.flush()
    assert await read_all(worker, 1) == [[[7, "d", [("서울", 0), ("은", 0)]], [8, "e", (500, "x", "api_error", None,
                                                                                    None, {})], [7, "d", [("요", 0)]]]]
    channel.close()
    worker.close()


async def test_a_worker_that_is_gone_breaks_the_channel_once():
    channel, worker, broken = await pair()
    worker.close()

    def engine_thread():
        for _ in range(5):
            channel.put(1, "d", ("끝", 0))
            channel.flush()

    from_thread(engine_thread)
    await soon(lambda: broken)
    assert broken == [1] and channel.closed


async def test_a_worker_that_stops_reading_is_cut_off(monkeypatch):
    monkeypatch.setattr(ch, "MAX_BACKLOG", 64 * 1024)
    channel, worker, broken = await pair(sndbuf=4096)

    def engine_thread():
        for step in range(200):
            channel.put(1, "d", ("가" * 1000, 0))
            channel.flush()

    from_thread(engine_thread)
    await soon(lambda: broken)
    assert broken == [1] and channel.closed
    worker.close()


async def test_listener_registers_a_worker_by_its_id_and_hears_it_go(tmp_path):
    loop = asyncio.get_running_loop()
    registered, gone = {}, []
    listener = ChannelListener(str(tmp_path / "tokens.sock"), lambda i, c: registered.__setitem__(i, c),
                               lambda i, c: gone.append((i, c)))
    listener.start(loop)
    frames, lost = [], []
    reader = ChannelReader(str(tmp_path / "tokens.sock"), b"w-worker-1", loop, frames.append, lambda: lost.append(1))
    await soon(lambda: registered)
    assert list(registered) == [b"w-worker-1"]
    engine_end = registered[b"w-worker-1"]
    engine_end.put(3, "d", ("대한민국", 0))
    engine_end.flush()
    await soon(lambda: frames)
    assert [loads(f) for f in frames] == [[[3, "d", [("대한민국", 0)]]]]
    reader.close()  # the worker goes away
    await soon(lambda: gone)
    assert gone == [(b"w-worker-1", engine_end)] and engine_end.closed and not lost
    listener.close()


async def test_a_worker_hears_when_the_engine_closes_its_channel(tmp_path):
    loop = asyncio.get_running_loop()
    registered = {}
    listener = ChannelListener(str(tmp_path / "tokens.sock"), lambda i, c: registered.__setitem__(i, c),
                               lambda i, c: None)
    listener.start(loop)
    lost = []
    reader = ChannelReader(str(tmp_path / "tokens.sock"), b"w2", loop, lambda f: None, lambda: lost.append(1))
    await soon(lambda: registered)
    registered[b"w2"].close()  # the engine process stops
    await soon(lambda: lost)
    assert lost == [1] and reader.closed
    listener.close()


def test_no_listener_means_no_channel(tmp_path):
    loop = asyncio.new_event_loop()
    try:
        with pytest.raises(OSError):
            ChannelReader(str(tmp_path / "nobody.sock"), b"w3", loop, lambda f: None, lambda: None)
    finally:
        loop.close()
