"""The stored_completions table: ciphertext only, tagged with tenant and (hashed) data subject."""

from datetime import datetime

from sqlalchemy import Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from jaju.store.base import Base, UtcDateTime, utcnow


class StoredCompletion(Base):
    __tablename__ = "stored_completions"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(40))
    # The subject as given by the tenant (an opaque reference such as a customer number), so that
    # export and erasure can find the rows; the personal data itself is only in the ciphertext.
    subject: Mapped[str | None] = mapped_column(String(200), nullable=True)
    model: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    payload: Mapped[bytes] = mapped_column(LargeBinary)

    __table_args__ = (Index("ix_stored_completions_tenant_created", "tenant_id", "created_at"),
                      Index("ix_stored_completions_tenant_subject", "tenant_id", "subject"))
