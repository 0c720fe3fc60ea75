"""Constructors the app factory and the CLI call; nothing here runs at import time."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from jaju.audit.events import Event
from jaju.engine.base import Backend
from jaju.engine.remote import RemoteBackend
from jaju.privacy.hashing import TenantHasher
from jaju.settings import JURISDICTION_CODES, Settings
from jaju.sovereignty.config import Jurisdictions, load_jurisdictions
from jaju.sovereignty.egress import EgressGuard
from jaju.sovereignty.router import ResidencyRouter
from jaju.sovereignty.transfers import PolicyHook, TransferService
from jaju.store.db import Database


class AuditSink(Protocol):
    def append(self, event: Event) -> Any: ...


@dataclass
class Sovereignty:
    """The sovereignty services of one deployment."""

    jurisdictions: Jurisdictions
    transfers: TransferService
    router: ResidencyRouter
    egress: EgressGuard
    remote: list[RemoteBackend]

    async def aclose(self) -> None:
        for backend in self.remote:
            await backend.close()
        await self.egress.aclose()


def _cache_salt(hasher: TenantHasher, tenant_id: str) -> str:
    return hasher.hexdigest(tenant_id, "", "engine-cache-salt")[:32]


def build_sovereignty(settings: Settings, db: Database, audit: AuditSink, *, config_file: str | Path | None = None,
                      local_backends: list[Backend] = (), policy: PolicyHook | None = None,
                      policy_basis: Callable[[str, str], str | None] | None = None,
                      home_of: Callable[[str], str] | None = None) -> Sovereignty:
    """Validate [jurisdictions], build one RemoteBackend per declared server behind one EgressGuard."""
    jurisdictions = load_jurisdictions(settings, config_file)
    egress = EgressGuard(jurisdictions.declared_hosts(), audit)
    salt = None
    if any(b.cache_salt for j in jurisdictions.by_code.values() for b in j.backends):
        # The same for a tenant in every process (the deployment's privacy secret), unguessable by the server.
        hasher = TenantHasher.load_or_create(settings.keys_dir)
        salt = functools.partial(_cache_salt, hasher)
    remote = [RemoteBackend(b, code, transport=egress, salt=salt)
              for code, j in jurisdictions.by_code.items() for b in j.backends]
    # A basis may name any recognised jurisdiction, even one with no backends declared yet.
    known = set(jurisdictions.codes) | set(JURISDICTION_CODES)
    transfers = TransferService(db, audit, known, policy=policy, policy_basis=policy_basis, home_of=home_of)
    router = ResidencyRouter([*local_backends, *remote], transfers, audit)
    return Sovereignty(jurisdictions, transfers, router, egress, remote)
