"""The floor under a worker's cost per streamed token: uvicorn + Starlette + ZeroMQ with nothing of jaju's.

    python benchmarks/sse_floor.py [--events 500] [--gaps 0.04 0.005 0.001]

A bare server (uvicorn with uvloop and httptools, one Starlette route returning a StreamingResponse) reads
events from a ZeroMQ PULL socket with jaju's `LoopReader` and sends each as one SSE event, as an API worker
sends a token. A feeder pushes `--events` events, `gap` seconds apart, and the server's main-thread CPU
(/proc, user + system) is divided by the events the client read. At 25 tok/s a token arrives every 40 ms;
comparing gaps shows how much of the cost is waking an idle process rather than the work per event.
Compare with benchmarks/stream_cpu.py's "API worker, main" line for jaju's real path.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TICK = os.sysconf("SC_CLK_TCK")


def serve(port: int, endpoint: str) -> None:
    import uvicorn
    import zmq
    from starlette.applications import Starlette
    from starlette.responses import StreamingResponse
    from starlette.routing import Route

    from jaju.engine.ipc.loopsock import LoopReader

    state: dict = {}

    async def stream(request):
        if "queue" not in state:
            sock = zmq.Context.instance().socket(zmq.PULL)
            sock.connect(endpoint)
            state["queue"] = asyncio.Queue()
            state["reader"] = LoopReader(sock, asyncio.get_running_loop(), state["queue"].put_nowait)
        queue, n = state["queue"], int(request.query_params["n"])

        async def events():
            for _ in range(n):
                text = (await queue.get()).decode()
                yield b"data: " + json.dumps({"choices": [{"delta": {"content": text}}]},
                                             ensure_ascii=False).encode() + b"\n\n"
            yield b"data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    app = Starlette(routes=[Route("/s", stream)])
    uvicorn.run(app, host="127.0.0.1", port=port, loop="uvloop", http="httptools", log_level="warning")


def main_thread_ticks(pid: int) -> int:
    stat = Path(f"/proc/{pid}/task/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2:].split()
    return int(fields[11]) + int(fields[12])


def measure(events: int, gap: float) -> float:
    import httpx
    import zmq

    from tests.support import free_port

    port = free_port()
    endpoint = f"ipc://{tempfile.mkdtemp()}/floor.sock"
    push = zmq.Context.instance().socket(zmq.PUSH)
    push.bind(endpoint)
    server = subprocess.Popen([sys.executable, __file__, "--serve", str(port), endpoint])
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

        def feed() -> None:
            time.sleep(0.5)  # the stream is open and waiting
            for _ in range(events):
                push.send("토큰".encode())
                time.sleep(gap)

        before = main_thread_ticks(server.pid)
        feeder = threading.Thread(target=feed)
        feeder.start()
        with httpx.stream("GET", f"http://127.0.0.1:{port}/s?n={events}", timeout=120) as r:
            got = sum(1 for line in r.iter_lines() if line.startswith("data: {"))
        feeder.join()
        return (main_thread_ticks(server.pid) - before) * 1000 / TICK / got
    finally:
        server.terminate()
        server.wait()
        push.close(0)


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--serve":
        serve(int(sys.argv[2]), sys.argv[3])
        return
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--events", type=int, default=500)
    p.add_argument("--gaps", type=float, nargs="+", default=[0.04, 0.005, 0.001])
    a = p.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f}")
    for gap in a.gaps:
        print(f"gap {gap * 1000:5.1f} ms: server main thread {measure(a.events, gap):.3f} ms CPU per event")


if __name__ == "__main__":
    main()
