"""KeyService: AES-256-GCM envelope encryption, a data key per tenant and per data subject, crypto-shredding.

Blob layout (version 1), all of it authenticated:

    b"JJE" | 0x01 | key id (16 bytes) | nonce (12 bytes) | ciphertext + GCM tag (16 bytes)

The header, the tenant id and the caller's `aad` are the associated data, so a blob cannot be
moved to another tenant or another row. Data keys never change; `rotate` re-wraps them under a
new KEK version, so every blob ever written stays readable until its key is destroyed.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from jaju.errors import ConfigError, JajuError
from jaju.sovereignty.kek import KekProvider
from jaju.sovereignty.tables import DataKey
from jaju.store.base import utcnow
from jaju.store.db import Database
from jaju.store.tables import Tenant

MAGIC = b"JJE"
FORMAT_V1 = 1
KEY_ID_BYTES = 16
NONCE_BYTES = 12
TAG_BYTES = 16
HEADER_BYTES = len(MAGIC) + 1 + KEY_ID_BYTES + NONCE_BYTES
DATA_KEY_BYTES = 32
ROTATE_BATCH = 500


class KeyDestroyed(JajuError):
    """The data key was destroyed (crypto-shredding): the content is gone for good."""


class CiphertextError(JajuError):
    """A blob is malformed, altered, or belongs to another tenant, subject or row."""


@dataclass(slots=True)
class _Cached:
    key: AESGCM
    raw: bytes
    tenant_id: str
    subject_ref: str
    expires: float


class TenantJurisdictions:
    """Looks up a tenant's home jurisdiction in the tenants table (tenants never change jurisdiction)."""

    def __init__(self, db: Database):
        self._db = db
        self._known: dict[str, str] = {}

    def __call__(self, tenant_id: str) -> str:
        j = self._known.get(tenant_id)
        if j is None:
            with self._db.sessions() as s:
                j = s.scalar(select(Tenant.jurisdiction).where(Tenant.id == tenant_id))
            if j is None:
                raise JajuError(f"No tenant {tenant_id}; create it before storing its data.")
            self._known[tenant_id] = j
        return j


class KeyService:
    """Envelope encryption per tenant and data subject, under each jurisdiction's key-encryption key."""

    def __init__(self, db: Database, jurisdiction_of: Callable[[str], str],
                 providers: Mapping[str, KekProvider], *, cache_seconds: float = 60.0):
        self._db = db
        self._jurisdiction_of = jurisdiction_of
        self._providers = {k.upper(): v for k, v in providers.items()}
        # Other replicas' destroys reach this cache within cache_seconds; local destroys at once.
        self._ttl = cache_seconds
        self._lock = threading.Lock()
        self._by_id: dict[str, _Cached] = {}
        self._live: dict[tuple[str, str], str] = {}

    # --- public API -------------------------------------------------------------------------
    def encrypt(self, tenant_id: str, plaintext: bytes, *, subject: str | None = None, aad: bytes = b"") -> bytes:
        """Seal plaintext under the tenant's (or the subject's) data key."""
        key_id, cached = self._live_key(tenant_id, subject)
        nonce = os.urandom(NONCE_BYTES)
        header = MAGIC + bytes([FORMAT_V1]) + bytes.fromhex(key_id) + nonce
        return header + cached.key.encrypt(nonce, plaintext, _aad(header, tenant_id, aad))

    def decrypt(self, tenant_id: str, blob: bytes, *, subject: str | None = None, aad: bytes = b"") -> bytes:
        """Open a blob sealed by encrypt(); KeyDestroyed after shredding, CiphertextError if it does not fit."""
        if len(blob) < HEADER_BYTES + TAG_BYTES or blob[:3] != MAGIC:
            raise CiphertextError("This is not a jaju ciphertext (bad header).")
        if blob[3] != FORMAT_V1:
            raise CiphertextError(f"Ciphertext format version {blob[3]} is not supported by this jaju.")
        header = bytes(blob[:HEADER_BYTES])
        key_id = header[4:4 + KEY_ID_BYTES].hex()
        cached = self._key_by_id(key_id)
        if cached.tenant_id != tenant_id:
            raise CiphertextError("This ciphertext belongs to another tenant.")
        if subject is None and cached.subject_ref:
            raise CiphertextError("This ciphertext is sealed for a data subject; name the subject to read it.")
        if subject is not None and cached.subject_ref != self._subject_ref(tenant_id, subject):
            raise CiphertextError("This ciphertext belongs to another data subject.")
        nonce = header[4 + KEY_ID_BYTES:]
        try:
            return cached.key.decrypt(nonce, bytes(blob[HEADER_BYTES:]), _aad(header, tenant_id, aad))
        except InvalidTag:
            raise CiphertextError("The ciphertext was altered or its associated data does not match.") from None

    def destroy_tenant(self, tenant_id: str) -> None:
        """Destroy every data key of the tenant, and refuse new ones: its stored content is unreadable."""
        now = utcnow()
        with self._db.immediate() as s:
            s.execute(update(DataKey).where(DataKey.tenant_id == tenant_id, DataKey.destroyed_at.is_(None))
                      .values(wrapped=None, destroyed_at=now))
            # A tombstone for the tenant key, so encrypt() after erasure refuses instead of starting afresh.
            if s.scalar(select(DataKey.id).where(DataKey.tenant_id == tenant_id, DataKey.subject_ref == "")
                        .limit(1)) is None:
                s.add(DataKey(id=os.urandom(KEY_ID_BYTES).hex(), tenant_id=tenant_id, subject_ref="",
                              jurisdiction=self._jurisdiction_of(tenant_id), kek_version=0, wrapped=None,
                              destroyed_at=now))
        self._forget(lambda c: c.tenant_id == tenant_id, lambda k: k[0] == tenant_id)

    def destroy_subject(self, tenant_id: str, subject: str) -> None:
        """Destroy the subject's data key; the tenant's other data stays readable."""
        try:
            ref = self._subject_ref(tenant_id, subject)
        except KeyDestroyed:
            return  # the whole tenant is already shredded
        with self._db.immediate() as s:
            s.execute(update(DataKey).where(DataKey.tenant_id == tenant_id, DataKey.subject_ref == ref,
                                            DataKey.destroyed_at.is_(None)).values(wrapped=None, destroyed_at=utcnow()))
        self._forget(lambda c: c.tenant_id == tenant_id and c.subject_ref == ref, lambda k: k == (tenant_id, ref))

    def rotate(self, jurisdiction: str) -> int:
        """Make a new KEK version current and re-wrap every live data key under it; returns how many."""
        jurisdiction = jurisdiction.upper()
        provider = self._provider(jurisdiction)
        new = provider.new_version()
        count = 0
        while True:
            with self._db.sessions() as s:
                rows = s.execute(select(DataKey.id, DataKey.tenant_id, DataKey.subject_ref, DataKey.kek_version,
                                        DataKey.wrapped)
                                 .where(DataKey.jurisdiction == jurisdiction, DataKey.kek_version < new,
                                        DataKey.destroyed_at.is_(None)).limit(ROTATE_BATCH)).all()
            if not rows:
                return count
            for key_id, tenant_id, ref, old, wrapped in rows:
                meta = _wrap_aad(key_id, tenant_id, ref, jurisdiction)
                rewrapped = provider.wrap(new, provider.unwrap(old, wrapped, meta), meta)
                # Conditional: a concurrent destroy or rotation wins; readers see old or new, both valid.
                with self._db.session() as s:
                    done = s.execute(update(DataKey).where(DataKey.id == key_id, DataKey.kek_version == old,
                                                           DataKey.destroyed_at.is_(None))
                                     .values(wrapped=rewrapped, kek_version=new, rotated_at=utcnow())).rowcount
                count += done

    def kek_versions_in_use(self, jurisdiction: str) -> dict[int, int]:
        """How many live data keys each KEK version wraps (an old version may be retired at zero)."""
        with self._db.sessions() as s:
            rows = s.execute(select(DataKey.kek_version, func.count()).where(
                DataKey.jurisdiction == jurisdiction.upper(), DataKey.destroyed_at.is_(None))
                .group_by(DataKey.kek_version)).all()
        return {int(v): int(n) for v, n in rows}

    # --- internals --------------------------------------------------------------------------
    def _provider(self, jurisdiction: str) -> KekProvider:
        provider = self._providers.get(jurisdiction)
        if provider is None:
            raise ConfigError(f"No key-encryption key source for jurisdiction {jurisdiction}. Declare "
                              f"[jurisdictions.{jurisdiction}] kek in jaju.toml.")
        return provider

    def _forget(self, by_cache: Callable[[_Cached], bool], by_live: Callable[[tuple[str, str]], bool]) -> None:
        with self._lock:
            for k in [k for k, c in self._by_id.items() if by_cache(c)]:
                del self._by_id[k]
            for k in [k for k in self._live if by_live(k)]:
                del self._live[k]

    def _subject_ref(self, tenant_id: str, subject: str) -> str:
        # Keyed by the tenant's data key: the table never holds the subject, and after the tenant
        # is shredded nobody can link rows to a person by hashing guesses.
        _, tenant = self._live_key(tenant_id, None)
        return hmac.new(tenant.raw, b"jaju/subject\0" + subject.encode("utf-8"), hashlib.sha256).hexdigest()

    def _live_key(self, tenant_id: str, subject: str | None) -> tuple[str, _Cached]:
        ref = "" if subject is None else self._subject_ref(tenant_id, subject)
        with self._lock:
            key_id = self._live.get((tenant_id, ref))
            cached = self._by_id.get(key_id) if key_id else None
            if cached is not None and cached.expires > time.monotonic():
                return key_id, cached
        for _ in range(3):
            with self._db.sessions() as s:
                row = s.scalar(select(DataKey).where(DataKey.tenant_id == tenant_id, DataKey.subject_ref == ref,
                                                     DataKey.destroyed_at.is_(None)))
                tomb = row is None and ref == "" and s.scalar(
                    select(DataKey.id).where(DataKey.tenant_id == tenant_id, DataKey.subject_ref == "").limit(1))
            if tomb:
                raise KeyDestroyed(f"Tenant {tenant_id} was erased; its keys are destroyed and nothing new "
                                   "can be stored for it.")
            if row is None:
                row = self._create(tenant_id, ref)
                if row is None:
                    continue  # another process created it first; read theirs
            cached = self._cache(row)
            with self._lock:
                self._live[(tenant_id, ref)] = row.id
            return row.id, cached
        raise JajuError(f"Could not create a data key for tenant {tenant_id} (concurrent writers kept racing).")

    def _create(self, tenant_id: str, ref: str) -> DataKey | None:
        jurisdiction = self._jurisdiction_of(tenant_id).upper()
        provider = self._provider(jurisdiction)
        key_id = os.urandom(KEY_ID_BYTES).hex()
        version = provider.current_version()
        raw = AESGCM.generate_key(bit_length=256)
        row = DataKey(id=key_id, tenant_id=tenant_id, subject_ref=ref, jurisdiction=jurisdiction,
                      kek_version=version, wrapped=provider.wrap(version, raw, _wrap_aad(key_id, tenant_id, ref,
                                                                                         jurisdiction)))
        try:
            with self._db.session() as s:
                s.add(row)
        except IntegrityError:
            return None
        return row

    def _key_by_id(self, key_id: str) -> _Cached:
        with self._lock:
            cached = self._by_id.get(key_id)
            if cached is not None and cached.expires > time.monotonic():
                return cached
        with self._db.sessions() as s:
            row = s.get(DataKey, key_id)
        if row is None:
            raise CiphertextError("The data key named in this ciphertext does not exist in this store.")
        return self._cache(row)

    def _cache(self, row: DataKey) -> _Cached:
        if row.wrapped is None or row.destroyed_at is not None:
            raise KeyDestroyed("The data key for this content was destroyed (crypto-shredded); it cannot be read.")
        provider = self._provider(row.jurisdiction)
        raw = provider.unwrap(row.kek_version, row.wrapped,
                              _wrap_aad(row.id, row.tenant_id, row.subject_ref, row.jurisdiction))
        cached = _Cached(AESGCM(raw), raw, row.tenant_id, row.subject_ref, time.monotonic() + self._ttl)
        with self._lock:
            self._by_id[row.id] = cached
        return cached


def _aad(header: bytes, tenant_id: str, aad: bytes) -> bytes:
    return header + b"\0" + tenant_id.encode("utf-8") + b"\0" + aad


def _wrap_aad(key_id: str, tenant_id: str, ref: str, jurisdiction: str) -> bytes:
    # Binds a wrapped key to its row: swapping `wrapped` between rows or tenants fails to unwrap.
    return f"jaju/dek/v1/{key_id}/{tenant_id}/{ref}/{jurisdiction}".encode()
