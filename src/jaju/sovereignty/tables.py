"""Sovereignty tables: wrapped data keys and recorded legal bases for cross-border transfers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from jaju.store.base import Base, UtcDateTime, utcnow


class DataKey(Base):
    """A tenant's (or a data subject's) AES-256 data key, wrapped by its jurisdiction's KEK.

    Rows are never deleted: a destroyed key keeps its row with `wrapped` cleared, so a later
    decrypt can say "destroyed" rather than "unknown".
    """

    __tablename__ = "data_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # hex of the 16-byte key id in blobs
    tenant_id: Mapped[str] = mapped_column(String(40))
    # "" for the tenant key; for a subject, HMAC of the subject under the tenant key (never the subject).
    subject_ref: Mapped[str] = mapped_column(String(64), default="")
    jurisdiction: Mapped[str] = mapped_column(String(8))
    kek_version: Mapped[int] = mapped_column(Integer)
    wrapped: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    rotated_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    destroyed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)

    __table_args__ = (
        # One live key per (tenant, subject); destroyed ones may pile up beside it.
        Index("ux_data_keys_live", "tenant_id", "subject_ref", unique=True,
              sqlite_where=text("destroyed_at IS NULL"), postgresql_where=text("destroyed_at IS NULL")),
        Index("ix_data_keys_jurisdiction_kek", "jurisdiction", "kek_version"),
    )


class TransferBasis(Base):
    """A legal basis recorded on a tenant for processing its data in another jurisdiction."""

    __tablename__ = "transfer_bases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    to_jurisdiction: Mapped[str] = mapped_column(String(8))
    basis: Mapped[str] = mapped_column(Text)
    evidence: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(80), nullable=True)

    __table_args__ = (UniqueConstraint("tenant_id", "to_jurisdiction", name="uq_transfer_bases_tenant_to"),)
