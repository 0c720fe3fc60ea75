"""Batches and their lines: the one queue every worker process claims from (see batches/queue.py)."""

from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from jaju.store.base import Base, UtcDateTime, utcnow


class Batch(Base):
    __tablename__ = "batches"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(40))
    key_id: Mapped[str] = mapped_column(String(40))  # the lines run as this key (it must stay unrevoked)
    endpoint: Mapped[str] = mapped_column(String(40))
    completion_window: Mapped[str] = mapped_column(String(8))
    input_file_id: Mapped[str] = mapped_column(String(40))
    output_file_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    error_file_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    status: Mapped[str] = mapped_column(String(20))
    metadata_blob: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # encrypted JSON
    # Finalising (writing the output files) is leased like a line, so a dead worker's batch is taken over.
    owner: Mapped[str | None] = mapped_column(String(80), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    in_progress_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finalizing_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    failed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    expired_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    cancelling_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)

    __table_args__ = (Index("ix_batches_tenant_created", "tenant_id", "created_at"),
                      Index("ix_batches_status", "status"))


class BatchLine(Base):
    """One request of a batch: pending -> running (leased) -> done, or cancelled / expired."""

    __tablename__ = "batch_lines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    batch_id: Mapped[str] = mapped_column(String(40))
    tenant_id: Mapped[str] = mapped_column(String(40))
    line_no: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12))
    owner: Mapped[str | None] = mapped_column(String(80), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    body: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # encrypted request line
    result: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # encrypted output line
    is_error: Mapped[bool] = mapped_column(Boolean, default=False)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)

    __table_args__ = (Index("ix_batch_lines_claim", "status", "lease_until"),
                      Index("ix_batch_lines_batch", "batch_id", "line_no", unique=True))
