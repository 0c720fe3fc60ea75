"""Build the ComplianceService from settings and the services it leans on (called once by the app)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

from jaju.audit.keys import DeploymentKey
from jaju.compliance.highimpact import HighImpactService
from jaju.compliance.retention import (
    AuditSink,
    RetentionService,
    RetentionTarget,
    TenantRef,
)
from jaju.compliance.runtime import ComplianceService, Tokenizer
from jaju.compliance.service import PolicyService
from jaju.compliance.settings import compliance_settings
from jaju.settings import Settings
from jaju.store import Database


class _TenantView(Protocol):
    id: str
    jurisdiction: str
    status: str
    settings: dict[str, Any]


class TenantLister(Protocol):
    def list(self) -> Sequence[_TenantView]: ...


def build_compliance_service(settings: Settings, db: Database, key: DeploymentKey, audit: AuditSink,
                             tokenizer_for: Callable[[str], Tokenizer]) -> ComplianceService:
    """Load every pack (a broken one raises PackError with file and line) and wire the pieces."""
    config = compliance_settings(settings.compliance)
    policies = PolicyService.from_settings(config)
    return ComplianceService(policies, key, config, HighImpactService(db, audit), tokenizer_for)


def build_retention(compliance: ComplianceService, tenants: TenantLister, audit: AuditSink,
                    targets: Sequence[RetentionTarget]) -> RetentionService | None:
    """Retention over the given targets, for every tenant's packs (None when nothing is retained)."""
    if not targets:
        return None

    def tenant_refs() -> Iterator[TenantRef]:
        for t in tenants.list():
            yield TenantRef(t.id, t.jurisdiction, tuple(t.settings.get("packs", ())),
                            compliance.high_impact.is_high_impact(t.id))

    return RetentionService(compliance.policies, targets, tenant_refs, audit)
