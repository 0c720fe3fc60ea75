"""Compliance tables: high-impact registrations (AI Basic Act Art. 33-35, AI Act high-risk)."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from jaju.store.base import Base, UtcDateTime, utcnow


class HighImpactRegistration(Base):
    """A tenant (application "") or one of its applications flagged as high-impact / high-risk."""

    __tablename__ = "compliance_high_impact"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    application: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    # [{"name", "role", "contact"}]: the people who oversee the system (AI Act Art. 14, 26(2)).
    oversight_contacts: Mapped[list] = mapped_column(JSON, default=list)
    # evidence name (see compliance.schema.EVIDENCE) -> where the document lives
    evidence: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("tenant_id", "application", name="uq_compliance_high_impact_app"),)
