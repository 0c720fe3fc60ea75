"""Errors a person can act on: one per failed file, or a missing knowledge base or document."""

from __future__ import annotations

from jaju.errors import JajuError


class KnowledgeError(JajuError):
    """Base class for knowledge-base errors."""


class KnowledgeNotFound(KnowledgeError):
    """No such knowledge base or document for this tenant (never says whether it exists elsewhere)."""


class KnowledgeConflict(KnowledgeError):
    """The name is already taken, or the same file is already in the knowledge base."""


class DocumentError(KnowledgeError):
    """One file could not be ingested; the message names the file and says why."""

    code = "document_error"

    def __init__(self, filename: str, reason: str):
        super().__init__(f"{filename}: {reason}")
        self.filename = filename
        self.reason = reason


class UnsupportedFormat(DocumentError):
    code = "unsupported_format"


class CorruptDocument(DocumentError):
    code = "corrupt_document"


class EncryptedDocument(DocumentError):
    code = "encrypted_document"


class EmptyDocument(DocumentError):
    code = "empty_document"
