"""FileService: upload, list, read and delete files; content and name encrypted under the tenant's key."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import and_, or_, select

from jaju.errors import InvalidRequest, NotFound, TooLarge
from jaju.files.tables import StoredFile
from jaju.knowledge.filenames import clean_filename
from jaju.store import Database
from jaju.store.base import utcnow

# Purposes a client may upload with; `batch_output` files are written by jaju itself.
UPLOAD_PURPOSES = ("batch",)
PURPOSES = ("batch", "batch_output")


class Cipher(Protocol):
    def encrypt(self, tenant_id: str, plaintext: bytes, *, subject: str | None = None, aad: bytes = b"") -> bytes: ...

    def decrypt(self, tenant_id: str, blob: bytes, *, subject: str | None = None, aad: bytes = b"") -> bytes: ...


class Stores(Protocol):
    def for_tenant(self, tenant_id: str) -> Database: ...


def _aad(file_id: str, part: str) -> bytes:
    return f"file|{file_id}|{part}".encode()


def new_file_id() -> str:
    return "file-" + secrets.token_hex(12)


def file_body(row: StoredFile, filename: str) -> dict[str, Any]:
    """The file object as OpenAI returns it (the SDK's FileObject)."""
    return {"id": row.id, "object": "file", "bytes": row.bytes, "created_at": int(row.created_at.timestamp()),
            "filename": filename, "purpose": row.purpose, "status": row.status,
            "expires_at": int(row.expires_at.timestamp()) if row.expires_at else None, "status_details": None}


class FileService:
    """Files per tenant in the tenant's store; another tenant's id is simply not found (404)."""

    def __init__(self, stores: Stores, cipher: Cipher, max_bytes: int):
        self.stores = stores
        self.cipher = cipher
        self.max_bytes = max_bytes

    def new_row(self, tenant_id: str, filename: str, purpose: str, data: bytes,
                file_id: str | None = None, created_at: datetime | None = None) -> StoredFile:
        """An encrypted row, not yet added to a session (batches add theirs in their own transaction)."""
        file_id = file_id or new_file_id()
        name = clean_filename(filename)
        return StoredFile(id=file_id, tenant_id=tenant_id, purpose=purpose, bytes=len(data), status="processed",
                          created_at=created_at or utcnow(),
                          filename=self.cipher.encrypt(tenant_id, name.encode("utf-8"), aad=_aad(file_id, "name")),
                          content=self.cipher.encrypt(tenant_id, data, aad=_aad(file_id, "content")))

    def upload(self, tenant_id: str, filename: str | None, purpose: str, data: bytes) -> dict[str, Any]:
        if purpose not in UPLOAD_PURPOSES:
            raise InvalidRequest(f"purpose must be one of: {', '.join(UPLOAD_PURPOSES)} (got {purpose!r}).",
                                 "invalid_purpose", "purpose")
        if len(data) > self.max_bytes:
            raise TooLarge(f"The file is {len(data):,} bytes; this deployment accepts at most {self.max_bytes:,}.",
                           "file_too_large", "file")
        if not data:
            raise InvalidRequest("The file is empty.", "empty_file", "file")
        row = self.new_row(tenant_id, filename or "upload.jsonl", purpose, data)
        with self.stores.for_tenant(tenant_id).session() as s:
            s.add(row)
        return file_body(row, self._name(row))

    def _row(self, s, tenant_id: str, file_id: str) -> StoredFile:
        row = s.get(StoredFile, file_id)
        if row is None or row.tenant_id != tenant_id:
            raise NotFound(f"No such File object: {file_id}", "file_not_found", "file_id")
        return row

    def _name(self, row: StoredFile) -> str:
        return self.cipher.decrypt(row.tenant_id, row.filename, aad=_aad(row.id, "name")).decode("utf-8")

    def get(self, tenant_id: str, file_id: str) -> dict[str, Any]:
        with self.stores.for_tenant(tenant_id).sessions() as s:
            row = self._row(s, tenant_id, file_id)
        return file_body(row, self._name(row))

    def content(self, tenant_id: str, file_id: str) -> bytes:
        with self.stores.for_tenant(tenant_id).sessions() as s:
            row = self._row(s, tenant_id, file_id)
        return self.cipher.decrypt(tenant_id, row.content, aad=_aad(row.id, "content"))

    def purpose_of(self, tenant_id: str, file_id: str) -> str:
        with self.stores.for_tenant(tenant_id).sessions() as s:
            return self._row(s, tenant_id, file_id).purpose

    def list(self, tenant_id: str, purpose: str | None = None, limit: int = 10000, after: str | None = None,
             order: str = "desc") -> dict[str, Any]:
        if not 1 <= limit <= 10000:
            raise InvalidRequest("limit must be between 1 and 10000.", param="limit")
        if order not in ("asc", "desc"):
            raise InvalidRequest("order must be 'asc' or 'desc'.", param="order")
        q = select(StoredFile).where(StoredFile.tenant_id == tenant_id)
        if purpose is not None:
            q = q.where(StoredFile.purpose == purpose)
        with self.stores.for_tenant(tenant_id).sessions() as s:
            if after:
                anchor = s.get(StoredFile, after)
                if anchor is None or anchor.tenant_id != tenant_id:
                    raise InvalidRequest(f"Unknown cursor {after!r}.", param="after")
                later = order == "asc"
                col, at = StoredFile.created_at, anchor.created_at
                q = q.where(or_(col > at if later else col < at,
                                and_(col == at, StoredFile.id > anchor.id if later else StoredFile.id < anchor.id)))
            keys = (StoredFile.created_at, StoredFile.id) if order == "asc" else \
                (StoredFile.created_at.desc(), StoredFile.id.desc())
            rows = s.scalars(q.order_by(*keys).limit(limit + 1)).all()
        data = [file_body(r, self._name(r)) for r in rows[:limit]]
        return {"object": "list", "data": data, "has_more": len(rows) > limit,
                "first_id": data[0]["id"] if data else None, "last_id": data[-1]["id"] if data else None}

    def delete(self, tenant_id: str, file_id: str) -> dict[str, Any]:
        with self.stores.for_tenant(tenant_id).session() as s:
            s.delete(self._row(s, tenant_id, file_id))
        return {"id": file_id, "object": "file", "deleted": True}
