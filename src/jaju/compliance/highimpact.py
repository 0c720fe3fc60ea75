"""High-impact uses: registration, human-oversight contacts, and the risk checklist with what is missing."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from jaju.audit.events import Event
from jaju.compliance.policy import Policy
from jaju.compliance.retention import AuditSink
from jaju.compliance.schema import EVIDENCE
from jaju.compliance.tables import HighImpactRegistration
from jaju.errors import JajuError
from jaju.store import Database
from jaju.store.base import utcnow

# Evidence the platform itself provides once a use is registered: the audit chain keeps full events.
PLATFORM_EVIDENCE = {"event_logging": "jaju audit chain with full event logs (hash-chained, signed checkpoints)"}


class HighImpactError(JajuError):
    """A registration is incomplete or malformed; the message says what to add."""


@dataclass(frozen=True, slots=True)
class Registration:
    tenant_id: str
    application: str
    description: str
    oversight_contacts: list[dict[str, str]]
    evidence: dict[str, str]
    updated_at: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"tenant_id": self.tenant_id, "application": self.application, "description": self.description,
                "oversight_contacts": self.oversight_contacts, "evidence": self.evidence,
                "updated_at": self.updated_at}


@dataclass(frozen=True, slots=True)
class ChecklistItem:
    duty: str
    evidence: str
    description: str
    sources: tuple[str, ...]
    met: bool
    detail: str


@dataclass(slots=True)
class Checklist:
    registration: Registration
    items: list[ChecklistItem] = field(default_factory=list)

    @property
    def missing(self) -> list[ChecklistItem]:
        return [i for i in self.items if not i.met]

    def to_dict(self) -> dict[str, Any]:
        return {"registration": self.registration.to_dict(), "complete": not self.missing,
                "items": [{"duty": i.duty, "evidence": i.evidence, "description": i.description,
                           "sources": list(i.sources), "met": i.met, "detail": i.detail} for i in self.items]}


def checklist(registration: Registration, policy: Policy) -> Checklist:
    """Every high-impact duty of the policy, met or missing, with the pack and article behind it."""
    out = Checklist(registration)
    for rule in policy.duties:
        duty = rule.value
        if duty.evidence == "oversight_contacts":
            met = bool(registration.oversight_contacts)
            detail = (", ".join(f"{c.get('name')} ({c.get('role', '')})" for c in registration.oversight_contacts)
                      if met else "no human-oversight contact recorded")
        elif duty.evidence in PLATFORM_EVIDENCE:
            met, detail = True, PLATFORM_EVIDENCE[duty.evidence]
        else:
            ref = registration.evidence.get(duty.evidence, "").strip()
            met, detail = bool(ref), ref or f"no {duty.evidence.replace('_', ' ')} recorded"
        out.items.append(ChecklistItem(duty.id, duty.evidence, duty.description,
                                       tuple(str(s) for s in rule.sources), met, detail))
    return out


def _contacts(raw: list[dict[str, str]]) -> list[dict[str, str]]:
    clean = []
    for c in raw:
        name, contact = str(c.get("name", "")).strip(), str(c.get("contact", "")).strip()
        if not name or not contact:
            raise HighImpactError("Each oversight contact needs a name and a contact (e-mail or phone).")
        clean.append({"name": name, "role": str(c.get("role", "")).strip(), "contact": contact})
    return clean


class HighImpactService:
    """Stores registrations; the chat path asks `is_high_impact` to resolve the stricter policy."""

    def __init__(self, db: Database, audit: AuditSink):
        self.db = db
        self.audit = audit

    def register(self, tenant_id: str, application: str = "", *, description: str = "",
                 oversight_contacts: list[dict[str, str]] | None = None,
                 evidence: dict[str, str] | None = None, actor: str | None = None) -> Registration:
        """Create or update a registration; unknown evidence names are refused."""
        contacts = _contacts(oversight_contacts or [])
        evidence = {k: str(v) for k, v in (evidence or {}).items()}
        unknown = sorted(set(evidence) - set(EVIDENCE))
        if unknown:
            raise HighImpactError(f"Unknown evidence {', '.join(unknown)}; use one of {', '.join(EVIDENCE)}.")
        with self.db.session() as s:
            row = s.scalar(select(HighImpactRegistration).where(
                HighImpactRegistration.tenant_id == tenant_id, HighImpactRegistration.application == application))
            if row is None:
                row = HighImpactRegistration(tenant_id=tenant_id, application=application)
                s.add(row)
            row.description = description or row.description or ""
            row.oversight_contacts = contacts or list(row.oversight_contacts or [])
            row.evidence = {**(row.evidence or {}), **evidence}
            row.updated_at = utcnow()
            s.flush()
            reg = _view(row)
        # Contact details are staff data needed for oversight; the trail records only how many there are.
        self.audit.append(Event(action="high_impact.register", tenant_id=tenant_id, key_id=actor, fields={
            "application": application, "contacts": len(reg.oversight_contacts), "evidence": sorted(reg.evidence)}))
        return reg

    def get(self, tenant_id: str, application: str = "") -> Registration | None:
        with self.db.sessions() as s:
            row = s.scalar(select(HighImpactRegistration).where(
                HighImpactRegistration.tenant_id == tenant_id, HighImpactRegistration.application == application))
            return _view(row) if row else None

    def list(self, tenant_id: str | None = None) -> list[Registration]:
        with self.db.sessions() as s:
            q = select(HighImpactRegistration).order_by(HighImpactRegistration.tenant_id,
                                                        HighImpactRegistration.application)
            if tenant_id:
                q = q.where(HighImpactRegistration.tenant_id == tenant_id)
            return [_view(r) for r in s.scalars(q)]

    def is_high_impact(self, tenant_id: str, application: str | None = None) -> bool:
        """True when the whole tenant, or the named application, is registered."""
        apps = {""} | ({application} if application else set())
        with self.db.sessions() as s:
            return s.scalar(select(HighImpactRegistration.id).where(
                HighImpactRegistration.tenant_id == tenant_id,
                HighImpactRegistration.application.in_(apps)).limit(1)) is not None


def _view(row: HighImpactRegistration) -> Registration:
    return Registration(row.tenant_id, row.application, row.description or "", list(row.oversight_contacts or []),
                        dict(row.evidence or {}), row.updated_at.isoformat() if row.updated_at else "")
