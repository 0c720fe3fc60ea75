"""The audit trail as a retention target: a tenant's expired log events keep their hashes, lose their content."""

from __future__ import annotations

from datetime import datetime

from jaju.audit.log import AuditLog


class AuditLogTarget:
    """`RetentionTarget` for log retention (kind "logs"); the chain stays verifiable after a purge."""

    name = "audit_events"
    kind = "logs"
    method = "redact"

    def __init__(self, audit: AuditLog):
        self.audit = audit

    def purge(self, tenant_id: str, before: datetime) -> int:
        return self.audit.redact_before(tenant_id, before)
