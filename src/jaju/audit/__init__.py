"""The tamper-evident audit trail: hash chain, signed group commits, witness, verification and export."""

from jaju.audit.errors import AuditTailUnsigned, AuditUnavailable
from jaju.audit.events import Event
from jaju.audit.log import AuditLog

__all__ = ["AuditLog", "AuditTailUnsigned", "AuditUnavailable", "Event"]
