"""The pseudonym vault: conversation tokens (placeholders, surrogates) with their values encrypted by the KeyService."""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy import delete, select

from jaju.privacy.hashing import TenantHasher
from jaju.privacy.session import Session
from jaju.privacy.tables import PseudonymEntry
from jaju.store.db import Database


class Cipher(Protocol):
    """What the vault needs from `jaju.sovereignty.keys.KeyService`."""

    def encrypt(self, tenant_id: str, plaintext: bytes, *, subject: str | None = None, aad: bytes = b"") -> bytes: ...

    def decrypt(self, tenant_id: str, blob: bytes, *, subject: str | None = None, aad: bytes = b"") -> bytes: ...


def _aad(conversation: str, placeholder: str) -> bytes:
    # Binds a ciphertext to its row, so a value cannot be moved to another placeholder or conversation.
    return f"jaju/privacy/vault/{conversation}/{placeholder}".encode()


class PseudonymVault:
    """Loads and saves sessions; also a SubjectDataProvider (export and erase by data subject)."""

    name = "privacy_vault"

    def __init__(self, db: Database, cipher: Cipher, hasher: TenantHasher):
        self._db = db
        self._cipher = cipher
        self._hasher = hasher

    def conversation_digest(self, tenant_id: str, conversation_key: str) -> str:
        return self._hasher.hexdigest(tenant_id, conversation_key, "conversation")

    def subject_digest(self, tenant_id: str, subject: str) -> str:
        return self._hasher.hexdigest(tenant_id, subject, "subject")

    def open(self, tenant_id: str, conversation_key: str | None, subject: str | None = None) -> Session:
        """The conversation's session with its earlier placeholders; a fresh one without a key."""
        if conversation_key is None:
            return Session(tenant_id, "", subject)
        conv = self.conversation_digest(tenant_id, conversation_key)
        session = Session(tenant_id, conv, subject)
        with self._db.for_tenant(tenant_id).session() as s:
            rows = s.execute(select(PseudonymEntry).where(PseudonymEntry.tenant_id == tenant_id,
                                                          PseudonymEntry.conversation == conv)).scalars().all()
        for row in rows:
            value = self._decrypt(tenant_id, row, subject if row.subject_digest else None)
            session.remember(row.placeholder, row.value_digest, value, row.entity)
        return session

    def save(self, session: Session) -> None:
        """Persist placeholders created since the session was opened (none for key-less sessions)."""
        if not session.conversation or not session.new:
            session.new.clear()
            return
        subject_digest = self.subject_digest(session.tenant_id, session.subject) if session.subject else None
        with self._db.for_tenant(session.tenant_id).session() as s:
            for e in session.new:
                blob = self._cipher.encrypt(session.tenant_id, e.value.encode("utf-8"), subject=session.subject,
                                            aad=_aad(session.conversation, e.placeholder))
                s.add(PseudonymEntry(tenant_id=session.tenant_id, conversation=session.conversation,
                                     placeholder=e.placeholder, entity=e.entity, value_digest=e.digest,
                                     subject_digest=subject_digest, ciphertext=blob))
        session.new.clear()

    def _decrypt(self, tenant_id: str, row: PseudonymEntry, subject: str | None) -> str:
        return self._cipher.decrypt(tenant_id, row.ciphertext, subject=subject,
                                    aad=_aad(row.conversation, row.placeholder)).decode("utf-8")

    def export(self, tenant_id: str, subject: str) -> dict[str, Any]:
        """Every vault value tagged to the subject, grouped by entity type."""
        digest = self.subject_digest(tenant_id, subject)
        with self._db.for_tenant(tenant_id).session() as s:
            rows = s.execute(select(PseudonymEntry).where(PseudonymEntry.tenant_id == tenant_id,
                                                          PseudonymEntry.subject_digest == digest)
                             .order_by(PseudonymEntry.id)).scalars().all()
        return {"pseudonyms": [{"entity_type": r.entity, "placeholder": r.placeholder,
                                "value": self._decrypt(tenant_id, r, subject),
                                "created_at": r.created_at.isoformat()} for r in rows]}

    def erase(self, tenant_id: str, subject: str) -> int:
        """Delete the subject's vault rows; returns how many."""
        digest = self.subject_digest(tenant_id, subject)
        with self._db.for_tenant(tenant_id).session() as s:
            result = s.execute(delete(PseudonymEntry).where(PseudonymEntry.tenant_id == tenant_id,
                                                            PseudonymEntry.subject_digest == digest))
        return int(result.rowcount or 0)
