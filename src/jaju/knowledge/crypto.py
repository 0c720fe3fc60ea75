"""The encryption contract knowledge storage relies on, and the associated data each ciphertext binds."""

from __future__ import annotations

from typing import Protocol


class Cipher(Protocol):
    """Envelope encryption per tenant (and per data subject); the sovereignty KeyService fits."""

    def encrypt(self, tenant_id: str, data: bytes, *, subject: str | None = None, aad: bytes = b"") -> bytes: ...

    def decrypt(self, tenant_id: str, data: bytes, *, subject: str | None = None, aad: bytes = b"") -> bytes: ...


def chunk_aad(doc_id: str, ordinal: int, part: str) -> bytes:
    """Binds each ciphertext to its document and place, so rows cannot be swapped or replayed elsewhere."""
    return f"jaju.kb.{part}:{doc_id}:{ordinal}".encode()
