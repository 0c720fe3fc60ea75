"""Retention for batches: a batch older than the cutoff goes with all its lines (a RetentionTarget)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select

from jaju.batches.tables import Batch, BatchLine
from jaju.files.service import Stores


class BatchRetention:
    """Deletes a tenant's batches created before the cutoff, and their lines, in one transaction.

    The input, output and error files are Files, expired by their own target (the `files` table).
    """

    name = "batches"
    kind = "content"
    method = "delete"

    def __init__(self, stores: Stores):
        self.stores = stores

    def purge(self, tenant_id: str, before: datetime) -> int:
        with self.stores.for_tenant(tenant_id).session() as s:
            old = select(Batch.id).where(Batch.tenant_id == tenant_id, Batch.created_at < before)
            s.execute(delete(BatchLine).where(BatchLine.batch_id.in_(old)))
            result = s.execute(delete(Batch).where(Batch.tenant_id == tenant_id, Batch.created_at < before))
            return result.rowcount or 0
