"""High-impact registrations and the risk checklist, on a real migrated SQLite store."""

from pathlib import Path

import pytest
import sqlalchemy as sa

from jaju.audit.events import Event
from jaju.compliance.highimpact import HighImpactError, HighImpactService, checklist
from jaju.store import Database
from jaju.store.base import utcnow
from jaju.store.tables import Tenant


class Recorder:
    def __init__(self):
        self.events: list[Event] = []

    def append(self, event: Event) -> None:
        self.events.append(event)


@pytest.fixture
def service(tmp_path: Path):
    db = Database(f"sqlite:///{tmp_path / 'jaju.db'}")
    db.migrate()
    with db.session() as s:
        s.add(Tenant(id="t-bank", name="한빛은행", jurisdiction="KR", status="active", created_at=utcnow(), settings={}))
    yield HighImpactService(db, Recorder())
    db.dispose()


def test_migration_created_the_table(service):
    assert "compliance_high_impact" in sa.inspect(service.db.engine).get_table_names()


def test_register_flags_and_lists_what_is_missing(service, policies):
    assert not service.is_high_impact("t-bank", "loan-screening")
    reg = service.register("t-bank", "loan-screening", description="대출 심사 보조",
                           oversight_contacts=[{"name": "김민준", "role": "여신심사부장", "contact": "risk@hanbit.example"}],
                           evidence={"risk_management_plan": "doc://risk/2026-01"})
    assert service.is_high_impact("t-bank", "loan-screening")
    assert not service.is_high_impact("t-bank", "chatbot")
    items = {i.duty: i for i in checklist(reg, policies.resolve("KR", high_impact=True)).items}
    assert items["human_oversight"].met and "김민준" in items["human_oversight"].detail
    assert items["risk_management"].met
    assert items["human_oversight"].sources == ("ai_basic_act_kr Art. 34(1)4",)
    missing = {i.duty for i in checklist(reg, policies.resolve("KR", high_impact=True)).missing}
    assert missing == {"explanation", "user_protection", "documentation", "impact_assessment"}
    event = service.audit.events[-1]
    assert event.action == "high_impact.register" and event.fields["contacts"] == 1
    assert "김민준" not in str(event.to_record())


def test_eu_checklist_counts_event_logging_as_met(service, policies):
    reg = service.register("t-bank", "", oversight_contacts=[])
    cl = checklist(reg, policies.resolve("EU", high_impact=True))
    by_evidence = {i.evidence: i.met for i in cl.items}
    assert by_evidence["event_logging"] is True
    assert by_evidence["oversight_contacts"] is False
    assert service.is_high_impact("t-bank", "anything")  # a tenant-wide registration covers every application


def test_update_keeps_earlier_evidence(service):
    service.register("t-bank", "a", evidence={"impact_assessment": "doc://fria"})
    reg = service.register("t-bank", "a", evidence={"explanation_plan": "doc://explain"})
    assert reg.evidence == {"impact_assessment": "doc://fria", "explanation_plan": "doc://explain"}
    assert [r.application for r in service.list("t-bank")] == ["a"]


@pytest.mark.parametrize("kwargs,message", [
    ({"evidence": {"vibes": "ok"}}, "Unknown evidence vibes"),
    ({"oversight_contacts": [{"name": "이서연"}]}, "needs a name and a contact"),
])
def test_bad_registration_is_refused(service, kwargs, message):
    with pytest.raises(HighImpactError, match=message):
        service.register("t-bank", "x", **kwargs)
