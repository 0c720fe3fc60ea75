"""BatchService: create, read, list and cancel batches; the lines are checked and queued at creation."""

from __future__ import annotations

import json
import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update

from jaju.batches import jsonl
from jaju.batches.queue import request_counts
from jaju.batches.tables import Batch, BatchLine
from jaju.errors import ApiError, InvalidRequest, NotFound
from jaju.files.service import Cipher, FileService, Stores
from jaju.store.base import utcnow

WINDOWS = {"24h": timedelta(hours=24)}
MAX_LINES = 50_000  # OpenAI's limit per batch


def line_aad(batch_id: str, line_no: int, part: str) -> bytes:
    return f"batch_line|{batch_id}|{line_no}|{part}".encode()


def _ts(value) -> int | None:
    return int(value.timestamp()) if value is not None else None


class BatchService:
    """Batches per tenant in the tenant's store; another tenant's id is not found (404)."""

    def __init__(self, stores: Stores, files: FileService, cipher: Cipher, *, max_lines: int = MAX_LINES,
                 max_input_bytes: int | None = None, max_line_bytes: int = 4 * 1024 * 1024):
        self.stores = stores
        self.files = files
        self.cipher = cipher
        self.max_lines = max_lines
        self.max_input_bytes = max_input_bytes or files.max_bytes
        self.max_line_bytes = max_line_bytes

    # --- create ----------------------------------------------------------------------------------
    def create(self, tenant_id: str, key_id: str, input_file_id: str, endpoint: str, completion_window: str,
               metadata: dict[str, str] | None = None) -> dict[str, Any]:
        if endpoint not in jsonl.ENDPOINTS:
            raise InvalidRequest(f"endpoint must be one of {', '.join(jsonl.ENDPOINTS)}.", "invalid_endpoint",
                                 "endpoint")
        if completion_window not in WINDOWS:
            raise InvalidRequest("completion_window must be '24h'.", "invalid_completion_window",
                                 "completion_window")
        if self.files.purpose_of(tenant_id, input_file_id) != "batch":  # 404 for another tenant's file
            raise InvalidRequest("The input file must be uploaded with purpose 'batch'.", "invalid_input_file",
                                 "input_file_id")
        data = self.files.content(tenant_id, input_file_id)
        if len(data) > self.max_input_bytes:
            raise InvalidRequest(f"The input file is {len(data):,} bytes; a batch's input may be at most "
                                 f"{self.max_input_bytes:,}.", "input_file_too_large", "input_file_id")
        lines = jsonl.parse(data, endpoint, self.max_lines, self.max_line_bytes)
        now = utcnow()
        batch_id = "batch_" + secrets.token_hex(12)
        meta = None
        if metadata:
            meta = self.cipher.encrypt(tenant_id, json.dumps(metadata, ensure_ascii=False).encode("utf-8"),
                                       aad=line_aad(batch_id, 0, "metadata"))
        batch = Batch(id=batch_id, tenant_id=tenant_id, key_id=key_id, endpoint=endpoint,
                      completion_window=completion_window, input_file_id=input_file_id, status="in_progress",
                      metadata_blob=meta, created_at=now, in_progress_at=now,
                      expires_at=now + WINDOWS[completion_window])
        rows = [self._line_row(tenant_id, batch_id, line) for line in lines]
        with self.stores.for_tenant(tenant_id).session() as s:
            s.add(batch)
            s.flush()
            s.add_all(rows)
        return self._body(batch, {"total": len(rows), "completed": 0,
                                  "failed": sum(1 for line in lines if line.failure is not None)}, metadata)

    def _line_row(self, tenant_id: str, batch_id: str, line: jsonl.Line) -> BatchLine:
        if line.failure is not None:  # refused at creation: it is already its error line
            blob = self.cipher.encrypt(tenant_id, json.dumps(line.failure, ensure_ascii=False).encode("utf-8"),
                                       aad=line_aad(batch_id, line.line_no, "result"))
            return BatchLine(batch_id=batch_id, tenant_id=tenant_id, line_no=line.line_no, status="done",
                             attempts=0, result=blob, is_error=True, finished_at=utcnow())
        request = json.dumps({"custom_id": line.custom_id, "body": line.body}, ensure_ascii=False)
        blob = self.cipher.encrypt(tenant_id, request.encode("utf-8"), aad=line_aad(batch_id, line.line_no, "body"))
        return BatchLine(batch_id=batch_id, tenant_id=tenant_id, line_no=line.line_no, status="pending", attempts=0,
                         body=blob, is_error=False)

    # --- read ------------------------------------------------------------------------------------
    def _row(self, s, tenant_id: str, batch_id: str) -> Batch:
        row = s.get(Batch, batch_id)
        if row is None or row.tenant_id != tenant_id:
            raise NotFound(f"No such Batch object: {batch_id}", "batch_not_found", "batch_id")
        return row

    def get(self, tenant_id: str, batch_id: str) -> dict[str, Any]:
        db = self.stores.for_tenant(tenant_id)
        with db.sessions() as s:
            row = self._row(s, tenant_id, batch_id)
        return self._body(row, request_counts(db, [batch_id])[batch_id])

    def list(self, tenant_id: str, limit: int = 20, after: str | None = None) -> dict[str, Any]:
        if not 1 <= limit <= 100:
            raise InvalidRequest("limit must be between 1 and 100.", param="limit")
        db = self.stores.for_tenant(tenant_id)
        q = select(Batch).where(Batch.tenant_id == tenant_id)
        with db.sessions() as s:
            if after:
                anchor = s.get(Batch, after)
                if anchor is None or anchor.tenant_id != tenant_id:
                    raise InvalidRequest(f"Unknown cursor {after!r}.", param="after")
                q = q.where(or_(Batch.created_at < anchor.created_at,
                                and_(Batch.created_at == anchor.created_at, Batch.id < anchor.id)))
            rows = s.scalars(q.order_by(Batch.created_at.desc(), Batch.id.desc()).limit(limit + 1)).all()
        counts = request_counts(db, [r.id for r in rows[:limit]])
        data = [self._body(r, counts[r.id]) for r in rows[:limit]]
        return {"object": "list", "data": data, "has_more": len(rows) > limit,
                "first_id": data[0]["id"] if data else None, "last_id": data[-1]["id"] if data else None}

    # --- cancel ----------------------------------------------------------------------------------
    def cancel(self, tenant_id: str, batch_id: str) -> dict[str, Any]:
        """Stop a batch: lines not yet started are dropped; lines running finish; then it is `cancelled`."""
        db = self.stores.for_tenant(tenant_id)
        now = utcnow()
        with db.session() as s:
            row = self._row(s, tenant_id, batch_id)
            if row.status not in ("validating", "in_progress"):
                raise ApiError(409, f"Cannot cancel a batch with status '{row.status}'.",
                               code="batch_not_cancellable", param="batch_id")
            s.execute(update(Batch).where(Batch.id == batch_id, Batch.status == row.status)
                      .values(status="cancelling", cancelling_at=now).execution_options(synchronize_session=False))
            s.execute(update(BatchLine).where(BatchLine.batch_id == batch_id, BatchLine.status == "pending")
                      .values(status="cancelled").execution_options(synchronize_session=False))
        return self.get(tenant_id, batch_id)

    # --- wire format ----------------------------------------------------------------------------
    def metadata(self, row: Batch) -> dict[str, str] | None:
        if row.metadata_blob is None:
            return None
        return json.loads(self.cipher.decrypt(row.tenant_id, row.metadata_blob, aad=line_aad(row.id, 0, "metadata")))

    def _body(self, row: Batch, counts: dict[str, int], metadata: dict[str, str] | None = None) -> dict[str, Any]:
        """The batch object as OpenAI returns it (the SDK's Batch)."""
        return {
            "id": row.id, "object": "batch", "endpoint": row.endpoint, "errors": None,
            "input_file_id": row.input_file_id, "completion_window": row.completion_window, "status": row.status,
            "output_file_id": row.output_file_id, "error_file_id": row.error_file_id,
            "created_at": _ts(row.created_at), "in_progress_at": _ts(row.in_progress_at),
            "expires_at": _ts(row.expires_at), "finalizing_at": _ts(row.finalizing_at),
            "completed_at": _ts(row.completed_at), "failed_at": _ts(row.failed_at),
            "expired_at": _ts(row.expired_at), "cancelling_at": _ts(row.cancelling_at),
            "cancelled_at": _ts(row.cancelled_at), "request_counts": counts,
            "metadata": metadata if metadata is not None else self.metadata(row),
        }
