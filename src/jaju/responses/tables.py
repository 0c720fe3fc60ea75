"""The stored_responses table: ciphertext only, with the status a background run updates."""

from datetime import datetime

from sqlalchemy import Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from jaju.store.base import Base, UtcDateTime, utcnow


class StoredResponse(Base):
    __tablename__ = "stored_responses"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(40))
    # The data subject as the tenant named it (an opaque reference), for export and erasure.
    subject: Mapped[str | None] = mapped_column(String(200), nullable=True)
    model: Mapped[str] = mapped_column(String(200))
    # queued, in_progress, completed, incomplete, failed, cancelled: in the clear so a cancel and a
    # background run can agree on it without decrypting.
    status: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    payload: Mapped[bytes] = mapped_column(LargeBinary)

    __table_args__ = (Index("ix_stored_responses_tenant_created", "tenant_id", "created_at"),
                      Index("ix_stored_responses_tenant_subject", "tenant_id", "subject"))
