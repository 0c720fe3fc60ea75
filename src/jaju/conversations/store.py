"""MessageStore: keep, read, list, delete and expire stored chat completions, always encrypted."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import delete, select

from jaju.conversations.tables import StoredCompletion
from jaju.protocol.common import echo
from jaju.errors import ApiError
from jaju.store import Database


class Cipher(Protocol):
    def encrypt(self, tenant_id: str, plaintext: bytes, *, subject: str | None = None, aad: bytes = b"") -> bytes: ...

    def decrypt(self, tenant_id: str, blob: bytes, *, subject: str | None = None, aad: bytes = b"") -> bytes: ...


def _aad(completion_id: str) -> bytes:
    return f"stored_completion|{completion_id}".encode()


class MessageStore:
    """Stored completions per tenant; the ciphertext is bound to its row id and tenant."""

    name = "stored_completions"

    def __init__(self, db: Database, cipher: Cipher):
        self.db = db
        self.cipher = cipher

    def keep(self, tenant_id: str, completion_id: str, model: str, messages: list[dict[str, Any]],
             reply: dict[str, Any], subject: str | None, metadata: dict[str, str] | None = None) -> None:
        payload = json.dumps({"messages": messages, "reply": reply, "metadata": metadata or {}},
                             ensure_ascii=False).encode("utf-8")
        blob = self.cipher.encrypt(tenant_id, payload, subject=subject, aad=_aad(completion_id))
        with self.db.for_tenant(tenant_id).session() as s:
            s.add(StoredCompletion(id=completion_id, tenant_id=tenant_id, subject=subject, model=model, payload=blob))

    def _open(self, row: StoredCompletion) -> dict[str, Any]:
        data = json.loads(self.cipher.decrypt(row.tenant_id, row.payload, subject=row.subject, aad=_aad(row.id)))
        return {"id": row.id, "object": "chat.completion.stored", "model": row.model,
                "created": int(row.created_at.timestamp()), "metadata": data.get("metadata", {}),
                "messages": data["messages"], "reply": data["reply"]}

    def get(self, tenant_id: str, completion_id: str) -> dict[str, Any]:
        with self.db.for_tenant(tenant_id).sessions() as s:
            row = s.get(StoredCompletion, completion_id)
        if row is None or row.tenant_id != tenant_id:
            raise ApiError(404, f"No stored completion {completion_id!r}.", code="not_found", param="completion_id")
        return self._open(row)

    def list(self, tenant_id: str, limit: int = 20, after: str | None = None) -> list[dict[str, Any]]:
        q = select(StoredCompletion).where(StoredCompletion.tenant_id == tenant_id)
        with self.db.for_tenant(tenant_id).sessions() as s:
            if after:
                anchor = s.get(StoredCompletion, after)
                if anchor is None or anchor.tenant_id != tenant_id:
                    raise ApiError(400, f"Unknown cursor '{echo(after)}'.", param="after")
                q = q.where(StoredCompletion.created_at <= anchor.created_at, StoredCompletion.id != after)
            rows = s.scalars(q.order_by(StoredCompletion.created_at.desc(), StoredCompletion.id).limit(limit)).all()
        return [self._open(r) for r in rows]

    def delete(self, tenant_id: str, completion_id: str) -> bool:
        with self.db.for_tenant(tenant_id).session() as s:
            row = s.get(StoredCompletion, completion_id)
            if row is None or row.tenant_id != tenant_id:
                raise ApiError(404, f"No stored completion {completion_id!r}.", code="not_found",
                               param="completion_id")
            s.delete(row)
        return True

    # --- data subjects (SubjectDataProvider) -------------------------------------------------
    def export(self, tenant_id: str, subject: str) -> dict[str, Any]:
        with self.db.for_tenant(tenant_id).sessions() as s:
            rows = s.scalars(select(StoredCompletion).where(StoredCompletion.tenant_id == tenant_id,
                                                            StoredCompletion.subject == subject)
                             .order_by(StoredCompletion.created_at)).all()
        return {"completions": [self._open(r) for r in rows]}

    def erase(self, tenant_id: str, subject: str) -> int:
        with self.db.for_tenant(tenant_id).session() as s:
            result = s.execute(delete(StoredCompletion).where(StoredCompletion.tenant_id == tenant_id,
                                                              StoredCompletion.subject == subject))
        return result.rowcount or 0

    # --- retention ----------------------------------------------------------------------------
    def expire(self, tenant_id: str, before: datetime) -> int:
        """Delete the tenant's stored completions created before `before`; returns how many."""
        with self.db.for_tenant(tenant_id).session() as s:
            result = s.execute(delete(StoredCompletion).where(StoredCompletion.tenant_id == tenant_id,
                                                              StoredCompletion.created_at < before))
        return result.rowcount or 0
