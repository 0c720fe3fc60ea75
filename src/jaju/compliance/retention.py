"""Retention: delete or crypto-shred what a tenant's policy says has expired, and audit each purge."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal, Protocol

import sqlalchemy as sa

from jaju.audit.events import Event
from jaju.compliance.policy import Policy, Rule
from jaju.compliance.service import PolicyError, PolicyService
from jaju.store import Database

Kind = Literal["content", "logs"]
# AI Act Art. 19(1) / 26(6): six months; the audit chain is never pruned below this, whatever packs say.
AUDIT_FLOOR_DAYS = 184


@dataclass(frozen=True, slots=True)
class TenantRef:
    """What retention needs to know about a tenant."""

    id: str
    jurisdiction: str
    packs: tuple[str, ...] = ()
    high_impact: bool = False


class RetentionTarget(Protocol):
    """One kind of stored data a tenant has: deletes (or shreds) what is older than `before`."""

    name: str
    kind: Kind
    method: str  # "delete" or "crypto-shred"

    def purge(self, tenant_id: str, before: datetime) -> int:
        """Remove the tenant's items created before `before`; return how many went."""
        ...


class AuditSink(Protocol):
    def append(self, event: Event) -> None: ...


@dataclass(frozen=True, slots=True)
class Purge:
    tenant_id: str
    target: str
    kind: str
    method: str
    before: datetime
    days: int
    count: int
    sources: tuple[str, ...]


@dataclass(slots=True)
class RetentionRun:
    """What one run did, and the tenants it could not handle (with the reason)."""

    now: datetime
    purges: list[Purge] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def deleted(self) -> int:
        return sum(p.count for p in self.purges)

    def to_dict(self) -> dict:
        return {"now": self.now.isoformat(), "deleted": self.deleted, "skipped": self.skipped,
                "purges": [{"tenant": p.tenant_id, "target": p.target, "kind": p.kind, "method": p.method,
                            "before": p.before.isoformat(), "days": p.days, "count": p.count,
                            "sources": list(p.sources)} for p in self.purges]}


def cutoff(policy: Policy, kind: Kind, now: datetime) -> tuple[datetime, Rule[int]] | None:
    """Items created before the returned time have expired; None keeps everything of this kind."""
    if kind == "content":
        rule = policy.content_max_days
    else:
        rule = policy.logs_max_days
        # A maximum shorter than a minimum is a pack conflict: keeping wins, since deletion is final.
        if rule is not None and policy.logs_min_days is not None and policy.logs_min_days.value > rule.value:
            rule = policy.logs_min_days
    if rule is None:
        return None
    return now - timedelta(days=rule.value), rule


class RetentionService:
    """Runs every target for every tenant against the tenant's effective retention."""

    def __init__(self, policies: PolicyService, targets: Sequence[RetentionTarget],
                 tenants: Callable[[], Iterable[TenantRef]], audit: AuditSink):
        self.policies = policies
        self.targets = tuple(targets)
        self.tenants = tenants
        self.audit = audit

    def run(self, now: datetime) -> RetentionRun:
        """Purge what expired at `now`; every purge that removed something becomes an audit event."""
        if now.tzinfo is None:
            raise ValueError("retention needs an aware datetime")
        result = RetentionRun(now)
        for tenant in self.tenants():
            try:
                policy = self.policies.resolve(tenant.jurisdiction, tenant.packs, tenant.high_impact)
            except PolicyError as e:
                result.skipped[tenant.id] = str(e)
                self.audit.append(Event(action="retention.skipped", tenant_id=tenant.id, status="error",
                                        fields={"reason": str(e)}, ts=now))
                continue
            for target in self.targets:
                found = cutoff(policy, target.kind, now)
                if found is None:
                    continue
                before, rule = found
                count = target.purge(tenant.id, before)
                purge = Purge(tenant.id, target.name, target.kind, target.method, before, rule.value, count,
                              tuple(str(s) for s in rule.sources))
                result.purges.append(purge)
                if count:
                    self.audit.append(Event(action="retention.purge", tenant_id=tenant.id, ts=now, fields={
                        "target": target.name, "kind": target.kind, "method": target.method,
                        "before": before.isoformat(), "days": rule.value, "count": count,
                        "sources": list(purge.sources)}))
        self.audit.append(Event(action="retention.run", ts=now, fields={
            "deleted": result.deleted, "targets": [t.name for t in self.targets],
            "skipped": sorted(result.skipped)}))
        return result


class SqlTableTarget:
    """Deletes a tenant's rows of one table whose timestamp column is older than the cutoff."""

    method = "delete"

    def __init__(self, db: Database, table: sa.Table, *, kind: Kind, tenant_column: str = "tenant_id",
                 time_column: str = "created_at", name: str | None = None):
        self.db = db
        self.table = table
        self.kind = kind
        self.name = name or table.name
        self._tenant = table.c[tenant_column]
        self._time = table.c[time_column]

    def purge(self, tenant_id: str, before: datetime) -> int:
        with self.db.for_tenant(tenant_id).session() as s:  # the tenant's own jurisdiction's store
            result = s.execute(sa.delete(self.table).where(self._tenant == tenant_id, self._time < before))
            return result.rowcount or 0


class ShredTarget:
    """Adapts a crypto-shredding function (destroy data keys of items older than the cutoff)."""

    method = "crypto-shred"

    def __init__(self, name: str, kind: Kind, shred: Callable[[str, datetime], int]):
        self.name = name
        self.kind = kind
        self._shred = shred

    def purge(self, tenant_id: str, before: datetime) -> int:
        return self._shred(tenant_id, before)


def audit_prune_cutoff(policies: Iterable[Policy], now: datetime, floor_days: int = AUDIT_FLOOR_DAYS) -> datetime:
    """The audit chain is shared by all tenants: prune only what every tenant's minimum lets go."""
    days = max([floor_days, *(p.logs_min_days.value for p in policies if p.logs_min_days is not None)])
    return now - timedelta(days=days)
