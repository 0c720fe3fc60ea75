"""Knowledge documents: sealed filenames and subjects (ciphertext), subjects looked up by keyed digest.

Adds columns only; no row is changed and nothing is dropped. The plaintext `filename` and `subject`
columns of rows written before this revision are sealed by `jaju.knowledge.sealing.seal_plaintext_rows`
when the knowledge service starts (encryption needs the key service, which a migration does not have);
afterwards both columns stay empty.

Revision ID: 0008
Revises: 0001 (needs 0005)
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0001"
branch_labels = ("knowledge_sealed",)
depends_on = "0005"


def upgrade() -> None:
    with op.batch_alter_table("knowledge_documents") as batch:
        batch.add_column(sa.Column("filename_enc", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("subject_enc", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("subject_digest", sa.String(64), nullable=True))
    op.create_index("ix_knowledge_documents_tenant_subject_digest", "knowledge_documents",
                    ["tenant_id", "subject_digest"])


def downgrade() -> None:
    op.drop_index("ix_knowledge_documents_tenant_subject_digest", "knowledge_documents")
    with op.batch_alter_table("knowledge_documents") as batch:
        batch.drop_column("subject_digest")
        batch.drop_column("subject_enc")
        batch.drop_column("filename_enc")
