"""The floor under any Python gateway on this stack: forward a chat request and do nothing else.

Two apps for `gateway_bench.py --floor`, each run by uvicorn as jaju's API workers are (uvloop, httptools,
no access log, as many workers), forwarding to the same upstream through jaju's own upstream transport
(`Http1Transport`), so what they spend is what any gateway built from these parts must spend before it
does any work of its own:

  asgi     a bare ASGI callable: read the body, POST it upstream, send the reply's bytes back
  fastapi  the same through a FastAPI route: the request parsed into a pydantic model, the reply parsed
           and sent back as a JSONResponse (what a typed OpenAI-compatible route costs)

Neither authenticates, scans, routes, labels or audits; they are measuring sticks, not gateways.

    GATEWAY_FLOOR_UPSTREAM=http://127.0.0.1:18500/v1 python -m uvicorn benchmarks.gateway_floor:asgi_app \
        --port 18600 --workers 2 --loop uvloop --http httptools --no-access-log
"""

from __future__ import annotations

import json
import os
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from jaju.sovereignty.transport import Http1Transport

UPSTREAM = os.environ.get("GATEWAY_FLOOR_UPSTREAM", "http://127.0.0.1:18500/v1")
_client: httpx.AsyncClient | None = None


def client() -> httpx.AsyncClient:
    global _client
    if _client is None:  # made on the worker's own loop, on first use
        _client = httpx.AsyncClient(transport=Http1Transport(), base_url=UPSTREAM, timeout=60)
    return _client


async def _read(receive) -> bytes:
    body, more = b"", True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    return body


async def asgi_app(scope, receive, send) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    if scope["path"] == "/health":
        status, body = 200, b"{}"
    elif scope["path"] == "/v1/chat/completions" and scope["method"] == "POST":
        reply = await client().post("/chat/completions", content=await _read(receive),
                                    headers={"content-type": "application/json"})
        status, body = reply.status_code, reply.content
    else:
        status, body = 404, b'{"error": "not found"}'
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class Message(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: str
    content: str | None = None


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    model: str
    messages: list[Message]
    max_tokens: int | None = None
    stream: bool = False


fastapi_app = FastAPI()


@fastapi_app.get("/health")
async def health() -> dict[str, Any]:
    return {}


@fastapi_app.post("/v1/chat/completions")
async def chat(body: ChatRequest) -> JSONResponse:
    reply = await client().post("/chat/completions", json=body.model_dump(exclude_none=True))
    return JSONResponse(json.loads(reply.content), status_code=reply.status_code)
