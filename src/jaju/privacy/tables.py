"""The pseudonym vault table: placeholder -> value encrypted under the tenant's (or subject's) key."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from jaju.store.base import Base, UtcDateTime, utcnow


class PseudonymEntry(Base):
    """One placeholder of one conversation. Lookups use HMAC digests; the value is only in `ciphertext`."""

    __tablename__ = "privacy_pseudonyms"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(String(40))
    conversation: Mapped[str] = mapped_column(String(64))  # HMAC of the caller's conversation key
    placeholder: Mapped[str] = mapped_column(String(80))
    entity: Mapped[str] = mapped_column(String(40))
    value_digest: Mapped[str] = mapped_column(String(64))
    subject_digest: Mapped[str | None] = mapped_column(String(64), nullable=True)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("tenant_id", "conversation", "placeholder", name="uq_privacy_pseudonyms_placeholder"),
        Index("ix_privacy_pseudonyms_conversation", "tenant_id", "conversation"),
        Index("ix_privacy_pseudonyms_subject", "tenant_id", "subject_digest"),
    )
