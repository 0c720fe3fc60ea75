"""LoopReader: every message that reaches a plain ZeroMQ socket is handed over, even when sends on the same
socket take the descriptor's edge (ZMQ_FD is edge-triggered), and closing stops the callbacks."""

from __future__ import annotations

import asyncio
import time

import pytest
import zmq

from jaju.engine.ipc.loopsock import BURST, LoopReader

pytestmark = pytest.mark.anyio


@pytest.fixture
def pair(tmp_path):
    ctx = zmq.Context.instance()
    router, dealer = ctx.socket(zmq.ROUTER), ctx.socket(zmq.DEALER)
    for s in (router, dealer):
        s.setsockopt(zmq.LINGER, 0)
    endpoint = f"ipc://{tmp_path / 's.sock'}"
    router.bind(endpoint)
    dealer.connect(endpoint)
    yield router, dealer
    router.close(0)
    dealer.close(0)


async def wait_until(check, seconds: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "messages stopped arriving"
        await asyncio.sleep(0.005)


async def test_every_message_arrives_while_the_reader_also_sends(pair):
    """The worker's pattern: replies stream in while it sends requests on the same socket."""
    router, dealer = pair
    loop = asyncio.get_running_loop()
    got: list[bytes] = []
    reader = LoopReader(dealer, loop, got.append)
    try:
        dealer.send(b"hello")
        ident, _ = router.recv_multipart()
        sent = 0
        for burst in range(40):
            for _ in range(burst % 7 + 1):  # bursts of 1..7 replies
                router.send_multipart([ident, f"{sent}".encode()])
                sent += 1
            # Let the replies reach the dealer's pipe before it sends: the send then takes the
            # descriptor's signal for them, and only after_send() gets them read.
            time.sleep(0.002)
            dealer.send(f"request {burst}".encode(), flags=zmq.NOBLOCK)
            reader.after_send()
            await asyncio.sleep(0)
        await wait_until(lambda: len(got) == sent)
        assert got == [f"{i}".encode() for i in range(sent)]  # all of them, in order
    finally:
        reader.close()


async def test_a_flood_is_read_in_bursts_without_starving_the_loop(pair):
    router, dealer = pair
    loop = asyncio.get_running_loop()
    got: list[bytes] = []
    ticks = 0

    async def ticker():
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    dealer.send(b"hello")
    ident, _ = router.recv_multipart()
    n = BURST * 3 + 3  # under the default high-water marks, which a ROUTER would drop beyond
    for i in range(n):
        router.send_multipart([ident, b"x"])
    tick = asyncio.create_task(ticker())
    reader = LoopReader(dealer, loop, got.append)  # messages already waiting when the reader starts
    try:
        await wait_until(lambda: len(got) == n)
        assert ticks > 1  # other callbacks ran between bursts
    finally:
        reader.close()
        tick.cancel()


async def test_after_close_no_callback_runs(pair):
    router, dealer = pair
    loop = asyncio.get_running_loop()
    got: list[bytes] = []
    reader = LoopReader(dealer, loop, got.append)
    dealer.send(b"hello")
    ident, _ = router.recv_multipart()
    router.send_multipart([ident, b"first"])
    await wait_until(lambda: got == [b"first"])
    reader.close()
    router.send_multipart([ident, b"late"])
    await asyncio.sleep(0.1)
    assert got == [b"first"]
    assert dealer.recv() == b"late"  # still on the socket, for whoever reads it next
