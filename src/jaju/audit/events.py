"""What an audit event holds, and its canonical bytes."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from jaju.store.base import utcnow

EVENT_VERSION = 1


@dataclass(slots=True)
class Event:
    """One audited action. `fields` must hold no raw content, personal data or secrets."""

    action: str  # e.g. "chat.completions", "key.create", "tenant.erase", "transfer.refused"
    tenant_id: str | None = None
    key_id: str | None = None
    status: int | str = "ok"
    fields: dict[str, Any] = field(default_factory=dict)
    ts: datetime = field(default_factory=utcnow)

    def to_record(self) -> dict[str, Any]:
        record = {"v": EVENT_VERSION, "ts": self.ts.isoformat(timespec="microseconds"),
                  "action": self.action, "tenant": self.tenant_id, "key": self.key_id,
                  "status": self.status}
        for k, v in self.fields.items():
            if k in record:
                raise ValueError(f"audit field {k!r} would overwrite a core field")
            record[k] = v
        return record


# Built once: json.dumps with options builds a new encoder per call, which shows in the writer's profile.
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def canonical(record: dict[str, Any]) -> bytes:
    """Deterministic JSON bytes: sorted keys, no spaces, UTF-8 (Korean stays readable)."""
    return _ENCODER.encode(record).encode("utf-8")
