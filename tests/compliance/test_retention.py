"""Retention deletes exactly what expired, records it in the real audit chain, and the chain still verifies."""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from jaju.audit import AuditLog
from jaju.audit.keys import DeploymentKey
from jaju.audit.verify import verify_store
from jaju.compliance.loader import parse_pack
from jaju.compliance.retention import (
    AUDIT_FLOOR_DAYS,
    RetentionService,
    ShredTarget,
    SqlTableTarget,
    TenantRef,
    audit_prune_cutoff,
    cutoff,
)
from jaju.compliance.service import PolicyService
from jaju.settings import AuditSettings
from jaju.store import Database
from jaju.store.base import UtcDateTime
from jaju.store.tables import AuditEvent

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)

# A stand-in for a feature's content table (conversation turns); not on jaju's Base, so no migration.
meta = sa.MetaData()
turns = sa.Table("test_turns", meta,
                 sa.Column("id", sa.Integer, primary_key=True),
                 sa.Column("tenant_id", sa.String(40), nullable=False),
                 sa.Column("text", sa.Text, nullable=False),
                 sa.Column("created_at", UtcDateTime(), nullable=False))

SHORT = parse_pack("""\
id: short_retention
title: Seven-day content
law: 단기 보관 지침
jurisdiction: KR
version: "2026-01"
source: https://intranet.example/short
retention:
  content_max_days: {days: 7, article: "§ 2"}
  logs_max_days: {days: 3650, article: "§ 3"}
""", "short.yaml")


@pytest.fixture
def store(tmp_path: Path):
    db = Database(f"sqlite:///{tmp_path / 'jaju.db'}")
    db.migrate()
    meta.create_all(db.engine)
    yield db
    db.dispose()


@pytest.fixture
def audit(store):
    return AuditLog(store, DeploymentKey(Ed25519PrivateKey.generate()), AuditSettings(), b"s" * 32)


@pytest.fixture
def service(policies):
    return PolicyService({**policies.packs, SHORT.id: SHORT}, policies.defaults)


AGES = {  # tenant -> ages in days of its rows
    "t-kr": [0, 6, 29, 31, 400],     # PIPA: 30 days
    "t-eu": [1, 30.5, 90],           # GDPR: 30 days
    "t-short": [2, 6.9, 7.1, 20],    # operator pack: 7 days
    "t-us": [1000],                  # no packs for US: skipped, nothing deleted
}
TENANTS = [TenantRef("t-kr", "KR"), TenantRef("t-eu", "EU"), TenantRef("t-short", "KR", ("pipa_kr", "short_retention")),
           TenantRef("t-us", "US")]


def _fill(db):
    with db.session() as s:
        for tenant, ages in AGES.items():
            for age in ages:
                s.execute(sa.insert(turns).values(tenant_id=tenant, text=f"{tenant}의 대화 {age}일 전",
                                                  created_at=NOW - timedelta(days=age)))


def _remaining(db) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    with db.engine.connect() as c:
        for tenant, created in c.execute(select(turns.c.tenant_id, turns.c.created_at).order_by(turns.c.created_at.desc())):
            created = created if created.tzinfo else created.replace(tzinfo=UTC)
            out.setdefault(tenant, []).append(round((NOW - created) / timedelta(days=1), 1))
    return out


def test_retention_deletes_exactly_what_expired_and_the_chain_verifies(store, audit, service):
    _fill(store)
    shredded: list[tuple[str, datetime]] = []
    targets = [SqlTableTarget(store, turns, kind="content", name="turns"),
               ShredTarget("vault", "content", lambda t, before: shredded.append((t, before)) or 1)]
    run = RetentionService(service, targets, lambda: TENANTS, audit).run(NOW)

    assert _remaining(store) == {"t-kr": [0.0, 6.0, 29.0], "t-eu": [1.0], "t-short": [2.0, 6.9], "t-us": [1000.0]}
    by_tenant = {(p.tenant_id, p.target): p for p in run.purges}
    assert by_tenant[("t-kr", "turns")].count == 2 and by_tenant[("t-kr", "turns")].days == 30
    assert by_tenant[("t-kr", "turns")].sources == ("pipa_kr Art. 21(1)",)
    assert by_tenant[("t-short", "turns")].count == 2 and by_tenant[("t-short", "turns")].days == 7
    assert run.deleted == 2 + 2 + 2 + 3  # three table purges plus one shred per resolvable tenant
    assert "No policy packs are set for jurisdiction 'US'" in run.skipped["t-us"]
    assert ("t-short", NOW - timedelta(days=7)) in shredded

    report = verify_store(store, [audit.key.public])
    assert report.ok, report.problem
    with store.engine.connect() as c:
        bodies = [json.loads(b) for (b,) in c.execute(select(AuditEvent.body).order_by(AuditEvent.seq))]
    actions = [b["action"] for b in bodies]
    assert actions.count("retention.purge") == 6
    assert actions[-1] == "retention.run" and actions.count("retention.skipped") == 1
    purge = next(b for b in bodies if b["action"] == "retention.purge" and b["tenant"] == "t-short")
    assert purge["count"] == 2 and purge["days"] == 7 and purge["sources"] == ["short_retention § 2"]
    assert not any("대화" in json.dumps(b, ensure_ascii=False) for b in bodies)  # no content in the trail


def test_second_run_deletes_nothing(store, audit, service):
    _fill(store)
    targets = [SqlTableTarget(store, turns, kind="content")]
    first = RetentionService(service, targets, lambda: TENANTS[:3], audit).run(NOW)
    second = RetentionService(service, targets, lambda: TENANTS[:3], audit).run(NOW)
    assert first.deleted == 6 and second.deleted == 0


@pytest.mark.parametrize("jurisdiction,packs,kind,days", [
    ("KR", (), "content", 30),
    ("KR", (), "logs", None),                                 # PIPA sets a minimum, no maximum: keep
    ("EU", (), "logs", None),
    ("KR", ("pipa_kr", "short_retention"), "logs", 3650),
    ("KR", ("ai_act_eu",), "content", None),                  # the AI Act says nothing about content
])
def test_cutoff_per_policy(service, jurisdiction, packs, kind, days):
    found = cutoff(service.resolve(jurisdiction, packs), kind, NOW)
    assert (found[1].value if found else None) == days
    if found:
        assert found[0] == NOW - timedelta(days=days)


def test_audit_pruning_keeps_every_tenants_minimum(service):
    kr, eu = service.resolve("KR"), service.resolve("EU")
    assert audit_prune_cutoff([eu], NOW) == NOW - timedelta(days=AUDIT_FLOOR_DAYS)
    assert audit_prune_cutoff([kr, eu], NOW) == NOW - timedelta(days=730)
    assert audit_prune_cutoff([], NOW) == NOW - timedelta(days=184)
