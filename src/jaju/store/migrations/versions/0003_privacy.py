"""Privacy: the pseudonym vault.

Revision ID: 0003
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from jaju.store.base import UtcDateTime

revision = "0003"
down_revision = "0001"
branch_labels = ("privacy",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "privacy_pseudonyms",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("tenant_id", sa.String(40), nullable=False),
        sa.Column("conversation", sa.String(64), nullable=False),
        sa.Column("placeholder", sa.String(80), nullable=False),
        sa.Column("entity", sa.String(40), nullable=False),
        sa.Column("value_digest", sa.String(64), nullable=False),
        sa.Column("subject_digest", sa.String(64), nullable=True),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.UniqueConstraint("tenant_id", "conversation", "placeholder", name="uq_privacy_pseudonyms_placeholder"),
    )
    op.create_index("ix_privacy_pseudonyms_conversation", "privacy_pseudonyms", ["tenant_id", "conversation"])
    op.create_index("ix_privacy_pseudonyms_subject", "privacy_pseudonyms", ["tenant_id", "subject_digest"])


def downgrade() -> None:
    op.drop_table("privacy_pseudonyms")
