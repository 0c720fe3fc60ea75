"""A document's identifying fields at rest: title, filename and subject sealed, subjects found by digest.

`DocumentSeal` writes and reads them; `seal_plaintext_rows` upgrades rows stored before migration 0008,
whose filename and subject were plaintext columns, and scrubs the old values from SQLite's free pages and
WAL (and PostgreSQL's dead tuples) so that they do not linger on disk.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import or_, select, text

from jaju.knowledge.crypto import Cipher, chunk_aad
from jaju.knowledge.tables import KnowledgeDocument
from jaju.store.db import Database

log = logging.getLogger(__name__)

SubjectDigest = Callable[[str, str], str]  # (tenant_id, subject) -> keyed hex digest


@dataclass(frozen=True, slots=True)
class DocumentFields:
    """The readable identity of a stored document."""

    filename: str
    title: str
    subject: str | None


class DocumentSeal:
    """Seals and opens title, filename and subject of knowledge documents with the tenant's keys."""

    def __init__(self, cipher: Cipher, subject_digest: SubjectDigest | None):
        self.cipher = cipher
        self.subject_digest = subject_digest

    def digest(self, tenant_id: str, subject: str) -> str:
        if self.subject_digest is None:
            raise RuntimeError("subject lookups need the privacy service's keyed digest (pass privacy=...)")
        return self.subject_digest(tenant_id, subject)

    def seal(self, doc: KnowledgeDocument, filename: str, title: str, subject: str | None) -> None:
        """Fill the sealed columns of a new row; the plaintext columns stay empty."""
        enc = self.cipher.encrypt
        doc.filename, doc.subject = "", None
        doc.title_enc = enc(doc.tenant_id, title.encode(), subject=subject, aad=chunk_aad(doc.id, -1, "title"))
        doc.filename_enc = enc(doc.tenant_id, filename.encode(), subject=subject,
                               aad=chunk_aad(doc.id, -1, "filename"))
        if subject is not None:
            # Under the tenant key: the subject must be readable to open what is sealed under its key.
            doc.subject_enc = enc(doc.tenant_id, subject.encode(), aad=chunk_aad(doc.id, -1, "subject"))
            doc.subject_digest = self.digest(doc.tenant_id, subject)

    def subject(self, doc: KnowledgeDocument) -> str | None:
        if doc.subject_enc is not None:
            return self.cipher.decrypt(doc.tenant_id, doc.subject_enc, aad=chunk_aad(doc.id, -1, "subject")).decode()
        return doc.subject  # a row not yet upgraded by seal_plaintext_rows

    def open(self, doc: KnowledgeDocument) -> DocumentFields:
        subject = self.subject(doc)
        dec = self.cipher.decrypt
        title = dec(doc.tenant_id, doc.title_enc, subject=subject, aad=chunk_aad(doc.id, -1, "title")).decode()
        if doc.filename_enc is not None:
            filename = dec(doc.tenant_id, doc.filename_enc, subject=subject,
                           aad=chunk_aad(doc.id, -1, "filename")).decode()
        else:
            filename = doc.filename
        return DocumentFields(filename, title, subject)


def seal_plaintext_rows(store: Database, seal: DocumentSeal) -> int:
    """Seal filenames and subjects that older versions stored in clear; returns how many rows changed.

    Subjects need the keyed digest; without it (privacy not wired) rows with a subject are left for a
    later start and only subject-less rows are sealed.
    """
    with store.session() as s:
        query = select(KnowledgeDocument).where(or_(KnowledgeDocument.filename != "",
                                                    KnowledgeDocument.subject.is_not(None)))
        if seal.subject_digest is None:
            query = query.where(KnowledgeDocument.subject.is_(None))
        rows = s.scalars(query).all()
        for doc in rows:
            subject = doc.subject
            name = doc.filename_enc is None and doc.filename
            if name:
                doc.filename_enc = seal.cipher.encrypt(doc.tenant_id, name.encode(), subject=subject,
                                                       aad=chunk_aad(doc.id, -1, "filename"))
            if subject is not None:
                doc.subject_enc = seal.cipher.encrypt(doc.tenant_id, subject.encode(),
                                                      aad=chunk_aad(doc.id, -1, "subject"))
                doc.subject_digest = seal.digest(doc.tenant_id, subject)
            doc.filename, doc.subject = "", None
        changed = len(rows)
    if changed:
        _scrub(store)
        log.info("sealed the filename and subject of %d knowledge documents stored in clear", changed)
    return changed


def _scrub(store: Database) -> None:
    """Rewrite the files so that the replaced plaintext is not left in free pages, the WAL or dead tuples."""
    if store.dialect == "sqlite":
        with store.engine.connect() as c:
            c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            c.exec_driver_sql("VACUUM")
            c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    elif store.dialect == "postgresql":
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(text("VACUUM FULL knowledge_documents"))
