"""Compliance: high-impact registrations.

Revision ID: 0004
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from jaju.store.base import UtcDateTime

revision = "0004"
down_revision = "0001"
branch_labels = ("compliance",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "compliance_high_impact",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("tenant_id", sa.String(40), sa.ForeignKey("tenants.id"), nullable=False, index=True),
        sa.Column("application", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("oversight_contacts", sa.JSON(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.UniqueConstraint("tenant_id", "application", name="uq_compliance_high_impact_app"),
    )


def downgrade() -> None:
    op.drop_table("compliance_high_impact")
