"""TenantLaw: one tenant's law as the request path reads it, resolved once and kept briefly.

A request asks for its tenant's law several times (PII rules, where it may run, where its content may be
stored, what its label says). `TenantLaws.of(tenant_id)` answers all of them from one resolution of the
tenant's packs, kept for `ttl` seconds per tenant. Changes made in this process clear the entry at once
(`forget`, wired to TenantService's listeners); other replicas see them within `ttl` seconds.

The transfer service, the tenant stores and the safeguards are built with a `TenantLaws` and ask it;
nothing is patched onto them after construction.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from jaju.compliance.policy import Policy
from jaju.privacy.policy import DEFAULT_RULES, PrivacyPolicy


class TenantRecord(Protocol):
    """What the law needs to know of a tenant (TenantService's TenantView)."""

    id: str
    jurisdiction: str
    settings: dict[str, Any]


PolicyResolver = Callable[[str, str, Sequence[str]], Policy]  # (tenant id, jurisdiction, packs) -> Policy


@dataclass(frozen=True, slots=True)
class TenantLaw:
    """A tenant's merged packs and everything the request path derives from them."""

    tenant: TenantRecord
    policy: Policy
    privacy: PrivacyPolicy

    @property
    def home(self) -> str:
        return self.tenant.jurisdiction

    @property
    def settings(self) -> Mapping[str, Any]:
        return self.tenant.settings

    @property
    def monthly_token_quota(self) -> int | None:
        return self.tenant.settings.get("monthly_token_quota")

    def processing_allowed(self, recorded: set[str]) -> set[str]:
        """Where content may be processed: home, recorded bases, and what the packs allow without one."""
        allowed = set(recorded) | {self.home}
        if self.policy.processing is not None:
            allowed |= set(self.policy.processing.value)
        return allowed

    def may_store(self, jurisdiction: str) -> bool:
        """Whether the packs allow this tenant's content to be stored in `jurisdiction`."""
        storage = self.policy.storage
        return storage is None or jurisdiction in storage.value

    def policy_basis(self, to: str) -> str | None:
        """The packs' own basis for processing in `to` (an adequacy decision), for the audit trail."""
        law = self.policy
        if law.processing is None or to not in law.processing.value:
            return None
        adequate = law.adequacy is not None and to in law.adequacy.value
        rule = law.adequacy if adequate else law.processing
        cited = "; ".join(str(src) for src in rule.sources)
        return f"{'adequacy' if adequate else 'permitted by policy'} ({cited})"


class TenantLaws:
    """Resolves and briefly keeps each tenant's law (see the module docstring)."""

    def __init__(self, tenant_of: Callable[[str], TenantRecord], resolve: PolicyResolver, ttl: float = 2.0,
                 privacy_floor: Mapping[str, Any] | None = None):
        self._tenant_of = tenant_of
        self._resolve = resolve
        self.ttl = ttl
        floor = privacy_floor if privacy_floor is not None else DEFAULT_RULES
        self._floor = {entity: asdict(rule) for entity, rule in floor.items()}
        self._cache: dict[str, tuple[float, TenantLaw]] = {}
        self._lock = threading.Lock()

    def of(self, tenant_id: str) -> TenantLaw:
        now = time.monotonic()
        hit = self._cache.get(tenant_id)
        if hit is not None and hit[0] > now:
            return hit[1]
        tenant = self._tenant_of(tenant_id)
        policy = self._resolve(tenant.id, tenant.jurisdiction, tuple(tenant.settings.get("packs", ())))
        law = TenantLaw(tenant, policy, PrivacyPolicy.from_dict(policy.privacy_actions(floor=self._floor)))
        with self._lock:
            self._cache[tenant_id] = (now + self.ttl, law)
        return law

    def forget(self, tenant_id: str) -> None:
        with self._lock:
            self._cache.pop(tenant_id, None)

    # Hooks in the shapes TransferService and TenantStores take in their constructors.
    def narrow_transfers(self, tenant_id: str, home: str, recorded: set[str]) -> set[str]:
        return self.of(tenant_id).processing_allowed(recorded)

    def policy_basis(self, tenant_id: str, to: str) -> str | None:
        return self.of(tenant_id).policy_basis(to)

    def may_store(self, tenant_id: str, jurisdiction: str) -> bool:
        return self.of(tenant_id).may_store(jurisdiction)
