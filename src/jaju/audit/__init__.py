"""The tamper-evident audit trail: hash chain, signed checkpoints, verification and export."""

from jaju.audit.events import Event
from jaju.audit.log import AuditLog

__all__ = ["AuditLog", "Event"]
