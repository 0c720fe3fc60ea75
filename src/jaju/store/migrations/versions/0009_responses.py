"""Stored responses (the Responses API): ciphertext only, with a status column for background runs.

Revision ID: 0009
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from jaju.store.base import UtcDateTime

revision = "0009"
down_revision = "0001"
branch_labels = ("responses",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stored_responses",
        sa.Column("id", sa.String(80), primary_key=True),
        sa.Column("tenant_id", sa.String(40), nullable=False),
        sa.Column("subject", sa.String(200), nullable=True),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
    )
    op.create_index("ix_stored_responses_tenant_created", "stored_responses", ["tenant_id", "created_at"])
    op.create_index("ix_stored_responses_tenant_subject", "stored_responses", ["tenant_id", "subject"])


def downgrade() -> None:
    op.drop_table("stored_responses")
