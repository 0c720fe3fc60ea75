"""Data-subject requests: export (GDPR Art. 20, PIPA Art. 35) and erasure (GDPR Art. 17) across providers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from jaju.audit.events import Event


class SubjectDataProvider(Protocol):
    """One place that stores data about subjects (vault, kept messages, knowledge documents)."""

    name: str

    def export(self, tenant_id: str, subject: str) -> dict[str, Any]: ...

    def erase(self, tenant_id: str, subject: str) -> int: ...


class SubjectKeys(Protocol):
    """The part of KeyService erasure needs: crypto-shredding a subject's data key."""

    def destroy_subject(self, tenant_id: str, subject: str) -> Any: ...


class AuditSink(Protocol):
    def append(self, event: Event) -> Any: ...


class SubjectService:
    """Runs an explicit list of providers; audits that a request happened, never what it returned."""

    def __init__(self, providers: Sequence[SubjectDataProvider], keys: SubjectKeys | None, audit: AuditSink,
                 subject_digest):
        names = [p.name for p in providers]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate subject data providers: {names}")
        self.providers = list(providers)
        self._keys = keys
        self._audit = audit
        # Callable (tenant_id, subject) -> tenant-keyed digest, so audit events can be correlated
        # with a later request about the same subject without naming the subject.
        self._digest = subject_digest

    def export(self, tenant_id: str, subject: str, *, key_id: str | None = None) -> dict[str, Any]:
        """Everything each provider holds about the subject, keyed by provider name."""
        data = {p.name: p.export(tenant_id, subject) for p in self.providers}
        self._audit.append(Event("privacy.subject.export", tenant_id=tenant_id, key_id=key_id,
                                 fields={"subject": self._digest(tenant_id, subject)[:32],
                                         "providers": [p.name for p in self.providers]}))
        return {"subject": subject, "tenant_id": tenant_id, "data": data}

    def erase(self, tenant_id: str, subject: str, *, key_id: str | None = None) -> dict[str, Any]:
        """Delete from every provider, then destroy the subject's key so any copy left is unreadable."""
        counts = {p.name: p.erase(tenant_id, subject) for p in self.providers}
        shredded = False
        if self._keys is not None:
            self._keys.destroy_subject(tenant_id, subject)
            shredded = True
        self._audit.append(Event("privacy.subject.erase", tenant_id=tenant_id, key_id=key_id,
                                 fields={"subject": self._digest(tenant_id, subject)[:32], "deleted": counts,
                                         "key_destroyed": shredded}))
        return {"subject": subject, "deleted": counts, "key_destroyed": shredded}
