"""What the audit trail raises when it cannot record: the API edge answers 503, the CLI one sentence."""

from __future__ import annotations

from jaju.errors import Unavailable


class AuditUnavailable(Unavailable):
    """The audit store (or the witness) did not durably take an event; nothing may be acknowledged."""

    default_code = "audit_unavailable"


class AuditTailUnsigned(AuditUnavailable):
    """The chain's newest events are not covered by a valid checkpoint, so appending would seal them."""

    default_code = "audit_tail_unsigned"
