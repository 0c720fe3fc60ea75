"""Knowledge bases: bases, documents, chunks (encrypted text, terms and vectors).

Revision ID: 0005
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from jaju.store.base import UtcDateTime

revision = "0005"
down_revision = "0001"
branch_labels = ("knowledge",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "knowledge_bases",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("tenant_id", sa.String(40), sa.ForeignKey("tenants.id"), nullable=False, index=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.String(2000), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.UniqueConstraint("tenant_id", "name", name="uq_knowledge_bases_tenant_name"),
    )
    op.create_table(
        "knowledge_documents",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("kb_id", sa.String(40), sa.ForeignKey("knowledge_bases.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("tenant_id", sa.String(40), nullable=False, index=True),
        sa.Column("filename", sa.String(500), nullable=False),
        sa.Column("format", sa.String(10), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=True),
        sa.Column("chunks", sa.Integer(), nullable=False),
        sa.Column("characters", sa.Integer(), nullable=False),
        sa.Column("title_enc", sa.LargeBinary(), nullable=False),
        sa.Column("subject", sa.String(200), nullable=True, index=True),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_knowledge_documents_kb_sha", "knowledge_documents", ["kb_id", "sha256"])
    op.create_table(
        "knowledge_chunks",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("document_id", sa.String(40), sa.ForeignKey("knowledge_documents.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("kb_id", sa.String(40), nullable=False, index=True),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("page", sa.Integer(), nullable=True),
        sa.Column("char_start", sa.Integer(), nullable=False),
        sa.Column("char_end", sa.Integer(), nullable=False),
        sa.Column("tokens", sa.Integer(), nullable=False),
        sa.Column("payload_enc", sa.LargeBinary(), nullable=False),
        sa.Column("vector_enc", sa.LargeBinary(), nullable=False),
    )


def downgrade() -> None:
    for name in ("knowledge_chunks", "knowledge_documents", "knowledge_bases"):
        op.drop_table(name)
