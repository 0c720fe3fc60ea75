"""ResponseStore: stored responses per tenant, encrypted in the tenant's jurisdiction's store.

The same pattern as `MessageStore`: `db.for_tenant(tenant_id)` picks the store, the payload is sealed
with the tenant's (or the data subject's) key and bound to its row id, and only the status is in the
clear. It is a `SubjectDataProvider` (export, erasure) and has `expire` for retention.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update

from jaju.conversations.store import Cipher
from jaju.errors import NotFound
from jaju.responses.tables import StoredResponse
from jaju.store import Database

RUNNING = ("queued", "in_progress")


def _aad(response_id: str) -> bytes:
    return f"stored_response|{response_id}".encode()


def missing(response_id: str) -> NotFound:
    # The same answer whether the id is unknown or another tenant's: existence is not disclosed.
    return NotFound(f"No response with id '{response_id[:80]}' was found.", "response_not_found", "response_id")


class ResponseStore:
    name = "stored_responses"

    def __init__(self, db: Database, cipher: Cipher):
        self.db = db
        self.cipher = cipher

    def _seal(self, tenant_id: str, rid: str, subject: str | None, record: dict[str, Any]) -> bytes:
        payload = json.dumps(record, ensure_ascii=False).encode("utf-8")
        return self.cipher.encrypt(tenant_id, payload, subject=subject, aad=_aad(rid))

    def _open(self, row: StoredResponse) -> dict[str, Any]:
        record = json.loads(self.cipher.decrypt(row.tenant_id, row.payload, subject=row.subject, aad=_aad(row.id)))
        record["status"] = row.status
        return record

    def keep(self, tenant_id: str, rid: str, model: str, status: str, subject: str | None,
             record: dict[str, Any]) -> None:
        blob = self._seal(tenant_id, rid, subject, record)
        with self.db.for_tenant(tenant_id).session() as s:
            s.add(StoredResponse(id=rid, tenant_id=tenant_id, subject=subject, model=model, status=status,
                                 payload=blob))

    def settle(self, tenant_id: str, rid: str, status: str, subject: str | None, record: dict[str, Any]) -> bool:
        """A background run's result; False (nothing written) if it was cancelled or deleted meanwhile."""
        blob = self._seal(tenant_id, rid, subject, record)
        with self.db.for_tenant(tenant_id).session() as s:
            result = s.execute(update(StoredResponse)
                               .where(StoredResponse.id == rid, StoredResponse.tenant_id == tenant_id,
                                      StoredResponse.status.in_(RUNNING))
                               .values(status=status, payload=blob))
        return bool(result.rowcount)

    def mark(self, tenant_id: str, rid: str, status: str) -> bool:
        """Move a running response to `status` (in_progress, cancelled); False if it is no longer running."""
        with self.db.for_tenant(tenant_id).session() as s:
            result = s.execute(update(StoredResponse)
                               .where(StoredResponse.id == rid, StoredResponse.tenant_id == tenant_id,
                                      StoredResponse.status.in_(RUNNING))
                               .values(status=status))
        return bool(result.rowcount)

    def get(self, tenant_id: str, rid: str) -> dict[str, Any]:
        with self.db.for_tenant(tenant_id).sessions() as s:
            row = s.get(StoredResponse, rid)
        if row is None or row.tenant_id != tenant_id:
            raise missing(rid)
        return self._open(row)

    def delete(self, tenant_id: str, rid: str) -> None:
        with self.db.for_tenant(tenant_id).session() as s:
            row = s.get(StoredResponse, rid)
            if row is None or row.tenant_id != tenant_id:
                raise missing(rid)
            s.delete(row)

    # --- data subjects (SubjectDataProvider) -------------------------------------------------
    def export(self, tenant_id: str, subject: str) -> dict[str, Any]:
        with self.db.for_tenant(tenant_id).sessions() as s:
            rows = s.scalars(select(StoredResponse).where(StoredResponse.tenant_id == tenant_id,
                                                          StoredResponse.subject == subject)
                             .order_by(StoredResponse.created_at)).all()
        return {"responses": [{"id": r.id, "model": r.model, "created_at": int(r.created_at.timestamp()),
                               **self._open(r)} for r in rows]}

    def erase(self, tenant_id: str, subject: str) -> int:
        with self.db.for_tenant(tenant_id).session() as s:
            result = s.execute(delete(StoredResponse).where(StoredResponse.tenant_id == tenant_id,
                                                            StoredResponse.subject == subject))
        return result.rowcount or 0

    # --- retention ----------------------------------------------------------------------------
    def expire(self, tenant_id: str, before: datetime) -> int:
        with self.db.for_tenant(tenant_id).session() as s:
            result = s.execute(delete(StoredResponse).where(StoredResponse.tenant_id == tenant_id,
                                                            StoredResponse.created_at < before))
        return result.rowcount or 0
