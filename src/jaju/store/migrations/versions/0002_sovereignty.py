"""Sovereignty: wrapped data keys (crypto-shredding) and cross-border transfer bases.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from jaju.store.base import UtcDateTime

revision = "0002"
down_revision = "0001"
branch_labels = ("sovereignty",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "data_keys",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("tenant_id", sa.String(40), nullable=False),
        sa.Column("subject_ref", sa.String(64), nullable=False),
        sa.Column("jurisdiction", sa.String(8), nullable=False),
        sa.Column("kek_version", sa.Integer(), nullable=False),
        sa.Column("wrapped", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("rotated_at", UtcDateTime(), nullable=True),
        sa.Column("destroyed_at", UtcDateTime(), nullable=True),
    )
    op.create_index("ux_data_keys_live", "data_keys", ["tenant_id", "subject_ref"], unique=True,
                    sqlite_where=sa.text("destroyed_at IS NULL"), postgresql_where=sa.text("destroyed_at IS NULL"))
    op.create_index("ix_data_keys_jurisdiction_kek", "data_keys", ["jurisdiction", "kek_version"])
    op.create_table(
        "transfer_bases",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("tenant_id", sa.String(40), sa.ForeignKey("tenants.id"), nullable=False, index=True),
        sa.Column("to_jurisdiction", sa.String(8), nullable=False),
        sa.Column("basis", sa.Text(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("created_by", sa.String(80), nullable=True),
        sa.UniqueConstraint("tenant_id", "to_jurisdiction", name="uq_transfer_bases_tenant_to"),
    )


def downgrade() -> None:
    op.drop_table("transfer_bases")
    op.drop_index("ix_data_keys_jurisdiction_kek", table_name="data_keys")
    op.drop_index("ux_data_keys_live", table_name="data_keys")
    op.drop_table("data_keys")
