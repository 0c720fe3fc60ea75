"""Knowledge tables: bases (tenant-scoped), documents, chunks with encrypted text, terms and vectors."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from jaju.store.base import Base, UtcDateTime, utcnow


class KnowledgeBase(Base):
    __tablename__ = "knowledge_bases"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(2000), default="")
    # Chunking and embedding settings fixed at creation, so later documents match earlier ones.
    config: Mapped[dict] = mapped_column(JSON, default=dict)
    # Bumped on every change; a replica whose in-memory index is older reloads the difference.
    version: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("tenant_id", "name", name="uq_knowledge_bases_tenant_name"),)


class KnowledgeDocument(Base):
    __tablename__ = "knowledge_documents"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kb_id: Mapped[str] = mapped_column(ForeignKey("knowledge_bases.id", ondelete="CASCADE"), index=True)
    tenant_id: Mapped[str] = mapped_column(String(40), index=True)
    # Before revision 0008 the name and subject were stored here in clear; now both stay empty and
    # the values live in filename_enc / subject_enc (see jaju.knowledge.sealing for old rows).
    filename: Mapped[str] = mapped_column(String(500), default="")
    format: Mapped[str] = mapped_column(String(10))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    pages: Mapped[int | None] = mapped_column(Integer, nullable=True)
    chunks: Mapped[int] = mapped_column(Integer, default=0)
    characters: Mapped[int] = mapped_column(Integer, default=0)
    # Title and source text are personal-data-bearing: stored encrypted (see KnowledgeChunk).
    title_enc: Mapped[bytes] = mapped_column(LargeBinary)
    subject: Mapped[str | None] = mapped_column(String(200), nullable=True, index=True)
    # The uploaded name (it often carries a name or an RRN), sealed like the title.
    filename_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    # The data subject a document is about: sealed under the tenant key (reading the subject-sealed
    # rows needs it), and found for export and erasure by the privacy vault's keyed digest.
    subject_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    subject_digest: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # Caller-supplied labels used by metadata filters (no content).
    labels: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    __table_args__ = (Index("ix_knowledge_documents_kb_sha", "kb_id", "sha256"),
                      Index("ix_knowledge_documents_tenant_subject_digest", "tenant_id", "subject_digest"))


class KnowledgeChunk(Base):
    """One chunk; its text, index terms and embedding are encrypted with the tenant's (or subject's) key."""

    __tablename__ = "knowledge_chunks"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("knowledge_documents.id", ondelete="CASCADE"), index=True)
    kb_id: Mapped[str] = mapped_column(String(40), index=True)
    ordinal: Mapped[int] = mapped_column(Integer)
    page: Mapped[int | None] = mapped_column(Integer, nullable=True)
    char_start: Mapped[int] = mapped_column(Integer)
    char_end: Mapped[int] = mapped_column(Integer)
    tokens: Mapped[int] = mapped_column(Integer)
    # JSON {"text", "headings", "terms": {term: tf}} encrypted; the terms are the BM25 forward index, so
    # an index rebuild needs neither Kiwi nor plaintext postings on disk.
    payload_enc: Mapped[bytes] = mapped_column(LargeBinary)
    # float32 e5 vector, encrypted: embeddings can be inverted back into text.
    vector_enc: Mapped[bytes] = mapped_column(LargeBinary)
