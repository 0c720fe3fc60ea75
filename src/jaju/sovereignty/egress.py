"""Egress control: an httpx transport that connects only to declared backend hosts."""

from __future__ import annotations

from typing import Any, Protocol

import httpx

from jaju.audit.events import Event
from jaju.errors import JajuError
from jaju.sovereignty.transport import Http1Transport


class AuditSink(Protocol):
    def append(self, event: Event) -> Any: ...


class EgressRefused(JajuError):
    """jaju tried to reach a host nobody declared; nothing was sent."""


def _port(url: httpx.URL) -> int:
    return url.port or (443 if url.scheme == "https" else 80)


class EgressGuard(httpx.AsyncBaseTransport):
    """Wraps a transport; requests to any (host, port) outside the allow-list are refused and audited."""

    def __init__(self, allowed: set[tuple[str, int]], audit: AuditSink | None,
                 inner: httpx.AsyncBaseTransport | None = None):
        self.allowed = {(h.lower(), p) for h, p in allowed}
        self._audit = audit
        self._inner = inner or Http1Transport()

    def permits(self, url: httpx.URL) -> bool:
        return (url.host.lower(), _port(url)) in self.allowed

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not self.permits(request.url):
            target = f"{request.url.scheme}://{request.url.host}:{_port(request.url)}"
            if self._audit is not None:
                # Host and port only: paths and queries can carry content.
                self._audit.append(Event("egress.refused", status="refused",
                                         fields={"target": target, "method": request.method}))
            raise EgressRefused(f"Outbound connection to {target} refused: it is not a declared backend. "
                                "Declare it under [[jurisdictions.XX.backends]] in jaju.toml if it should be one.")
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()
