"""ResidencyRouter: only backends in jurisdictions a tenant may use; fail closed with a 503 that says why."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any, Protocol

from jaju.audit.events import Event
from jaju.engine.base import Backend, ChatRequest, CompletionRequest, Delta, RespondsNatively
from jaju.errors import ServiceError, Unavailable, UpstreamFailed, UpstreamTimeout
from jaju.protocol.common import unknown_model
from jaju.sovereignty.breaker import OPEN

# Failures that move a request to the next permitted backend before its first byte: down, garbage, silent.
_MOVE_ON = (502, 503, 504)


class AuditSink(Protocol):
    def append(self, event: Event) -> Any: ...


class Transfers(Protocol):
    """What routing needs from TransferService."""

    def home(self, tenant_id: str) -> str: ...

    def allowed_jurisdictions(self, tenant_id: str) -> set[str]: ...

    def basis(self, tenant_id: str, to: str) -> Any: ...


def _breaker_state(backend: Backend) -> str:
    breaker = getattr(backend, "breaker", None)
    return breaker.state if breaker is not None else "closed"


def _used_by(backend: Backend, model: str) -> list[str]:
    config = getattr(backend, "config", None)
    spec = config.models.get(model) if config is not None else None
    return [u.upper() for u in spec.used_by] if spec is not None else []


class ResidencyRouter:
    """Orders the backends a request may use; never returns one outside the tenant's allowed jurisdictions."""

    def __init__(self, backends: Sequence[Backend], transfers: Transfers, audit: AuditSink):
        names = [b.name for b in backends]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate backend names: {names}")
        self.backends = list(backends)
        self._transfers = transfers
        self._audit = audit
        self._health: dict[str, bool] = {}

    async def check_health(self) -> dict[str, bool]:
        """Probe every backend (run this periodically); within a jurisdiction, unhealthy ones sort last."""
        for b in self.backends:
            self._health[b.name] = await b.healthy()
        return dict(self._health)

    def health(self) -> dict[str, bool]:
        """What the last probe or the last request said about each backend (absent: not known yet)."""
        return dict(self._health)

    def mark(self, backend: Backend, healthy: bool) -> None:
        """A request's outcome: an answer proves a backend healthy at once, without waiting for a probe."""
        self._health[backend.name] = healthy

    def add(self, backend: Backend) -> None:
        """Register a backend loaded after start-up (an on-demand local model, the engine process's client)."""
        if all(b.name != backend.name for b in self.backends):
            self.backends.append(backend)

    def named(self, name: str) -> Backend:
        """The registered backend with this name (the one a routed stream reported it ran on)."""
        return next(b for b in self.backends if b.name == name)

    def serving(self, model: str) -> list[Backend]:
        return [b for b in self.backends if any(m.id == model for m in b.models())]

    def pick(self, model: str, tenant: str, *, key_id: str | None = None) -> list[Backend]:
        """Backends to try in order: allowed jurisdictions only, open circuits out, home first, then healthy first.

        Home outranks the health flag: a probe's verdict can be ten seconds old, and a stale "unhealthy"
        must not send data abroad while home can answer. Only a real failure of home moves a request on.
        """
        candidates = self.serving(model)
        if not candidates:
            raise unknown_model(model)  # the name is repeated only if it looks like one
        home = self._transfers.home(tenant)
        allowed = self._transfers.allowed_jurisdictions(tenant)
        permitted = [b for b in candidates if b.jurisdiction in allowed
                     and (not _used_by(b, model) or home in _used_by(b, model))]
        usable = [b for b in permitted if _breaker_state(b) != OPEN]
        usable.sort(key=lambda b: (b.jurisdiction != home, not self._health.get(b.name, True)))
        if usable:
            return usable
        abroad = sorted({b.jurisdiction for b in candidates if b.jurisdiction not in allowed})
        reasons = [f"{b.name} ({b.jurisdiction}) is down, its circuit is open" for b in permitted]
        if not permitted:
            reasons.append(f"no backend serving it is in {', '.join(sorted(allowed))}")
        if abroad:
            reasons.append(f"backends in {', '.join(abroad)} were not used: no transfer basis from {home} is "
                           "recorded for this tenant")
            self._audit.append(Event("transfer.refused", tenant_id=tenant, key_id=key_id, status="refused",
                                     fields={"from": home, "to": abroad, "model": model,
                                             "reason": "no legal basis recorded"}))
        raise Unavailable(f"No permitted backend can serve '{model}' for this tenant now: {'; '.join(reasons)}.",
                          "residency_unavailable")

    def record_use(self, backend: Backend, model: str, tenant: str, *, key_id: str | None = None) -> dict[str, Any]:
        """Audit a cross-border use with its basis; returns the fields to add to the inference event."""
        home = self._transfers.home(tenant)
        fields = {"jurisdiction": backend.jurisdiction, "backend": backend.name, "model": model}
        if backend.jurisdiction != home:
            basis = self._transfers.basis(tenant, backend.jurisdiction)
            self._audit.append(Event("transfer.allowed", tenant_id=tenant, key_id=key_id,
                                     fields={"from": home, "to": backend.jurisdiction, "backend": backend.name,
                                             "model": model, "basis": getattr(basis, "basis", "policy"),
                                             "evidence": getattr(basis, "evidence", "")}))
        return fields

    def chat(self, request: ChatRequest, tenant: str, *, key_id: str | None = None,
             used: dict[str, Any] | None = None) -> AsyncIterator[Delta]:
        """Stream from the first permitted backend that answers; `used` receives where it ran."""
        return self._run(lambda b: b.chat(request), request.model, tenant, key_id, used)

    def complete(self, request: CompletionRequest, tenant: str, *, key_id: str | None = None,
                 used: dict[str, Any] | None = None) -> AsyncIterator[Delta]:
        return self._run(lambda b: b.complete(request), request.model, tenant, key_id, used)

    def respond(self, request: ChatRequest, tenant: str, *, key_id: str | None = None,
                used: dict[str, Any] | None = None) -> AsyncIterator[Delta]:
        """A Responses request, routed like chat: a backend that serves /v1/responses itself gets it in that
        form, any other runs it as a chat; `used["upstream_api"]` says which ("responses" or "chat")."""
        async def start(backend: Backend) -> AsyncIterator[Delta]:
            native = isinstance(backend, RespondsNatively) and await backend.speaks_responses()
            if used is not None:
                used["upstream_api"] = "responses" if native else "chat"
            stream = backend.respond(request) if native else backend.chat(request)
            try:
                async for delta in stream:
                    yield delta
            finally:
                await stream.aclose()

        return self._run(start, request.model, tenant, key_id, used)

    async def _run(self, start, model: str, tenant: str, key_id: str | None,
                   used: dict[str, Any] | None) -> AsyncIterator[Delta]:
        failures: list[tuple[Backend, ServiceError]] = []
        for backend in self.pick(model, tenant, key_id=key_id):
            stream = start(backend)
            try:
                first = await anext(stream)
            except StopAsyncIteration:
                first = None
            except ServiceError as e:
                # Before the first byte: a backend that is down (503), speaks garbage (502) or hangs (504) is
                # passed over for the next one, and that one is still in a jurisdiction this tenant may use.
                if e.status not in _MOVE_ON:
                    raise
                self.mark(backend, False)
                failures.append((backend, e))
                await stream.aclose()
                continue
            self.mark(backend, True)
            fields = self.record_use(backend, model, tenant, key_id=key_id)
            if used is not None:
                used.update(fields)
            try:
                if first is not None:
                    yield first
                async for delta in stream:
                    yield delta
            except ServiceError as e:
                # After the first byte there is no going elsewhere: the caller ends its stream with this error.
                if e.status in _MOVE_ON:
                    self.mark(backend, False)
                raise
            finally:
                await stream.aclose()
            return
        raise _exhausted(model, failures)


def _exhausted(model: str, failures: list[tuple[Backend, ServiceError]]) -> ServiceError:
    """Every permitted backend failed: 503 if they were all down, else the upstream's 502/504 kind."""
    worst = next((e for _, e in failures if e.status != 503), None)
    reasons = "; ".join(f"{b.name} ({b.jurisdiction}): {e.message}" for b, e in failures)
    if worst is None:
        return Unavailable(f"No permitted backend answered for '{model}': {reasons}. Requests are never sent to a "
                           "jurisdiction this tenant may not use.", "residency_unavailable")
    kind = UpstreamTimeout if worst.status == 504 else UpstreamFailed
    return kind(f"No permitted backend gave a usable answer for '{model}': {reasons}.", worst.code)
