"""RequestContext: one API request as the domain sees it, built once at the edge and passed down."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field

from jaju.compliance.law import TenantLaw
from jaju.tenancy.principal import Principal
from jaju.telemetry import Span


@dataclass(frozen=True, slots=True)
class RequestOptions:
    """The jaju extension fields (and headers) that shape one request's safeguards."""

    subject: str | None = None
    conversation_id: str | None = None
    knowledge_bases: tuple[str, ...] = ()
    knowledge_top_k: int = 5
    speech_level: str | None = None  # formal | polite | casual
    history: str = "full"  # or "sliding"


@dataclass(slots=True)
class RequestContext:
    """Who is calling, under which law, with which options; one per request."""

    principal: Principal
    law: TenantLaw
    request_id: str
    options: RequestOptions = field(default_factory=RequestOptions)
    span: Span = field(default_factory=Span.off)
    started: float = field(default_factory=time.perf_counter)
    # Parameters the client sent that jaju accepted without applying; named back in `jaju.ignored_params`.
    ignored_params: tuple[str, ...] = ()

    @property
    def tenant_id(self) -> str:
        return self.principal.tenant_id

    @property
    def key_id(self) -> str:
        return self.principal.key_id

    def elapsed_ms(self) -> float:
        return round((time.perf_counter() - self.started) * 1000, 2)


def new_request_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex}"
