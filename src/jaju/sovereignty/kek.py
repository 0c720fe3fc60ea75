"""Key-encryption keys: one per jurisdiction, versioned, behind a Protocol a KMS or HSM can implement."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Protocol, runtime_checkable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from jaju.errors import ConfigError, JajuError

KEK_BYTES = 32
_NONCE = 12
_FILE = re.compile(r"^v(\d{4,})\.key$")


class KekError(JajuError):
    """A key-encryption key is missing, unreadable, or did not unwrap a data key."""


@runtime_checkable
class KekProvider(Protocol):
    """Wraps and unwraps data keys under a jurisdiction's KEK; the KEK itself never leaves it."""

    jurisdiction: str

    def current_version(self) -> int:
        """The version new wraps use (creating version 1 on first use)."""
        ...

    def new_version(self) -> int:
        """Create the next KEK version and make it current; older versions stay able to unwrap."""
        ...

    def wrap(self, version: int, data_key: bytes, aad: bytes) -> bytes: ...

    def unwrap(self, version: int, wrapped: bytes, aad: bytes) -> bytes: ...


class LocalKekProvider:
    """KEKs as 32-byte files `<keys_dir>/kek/<JURISDICTION>/vNNNN.key` (mode 0600, never overwritten)."""

    def __init__(self, keys_dir: Path, jurisdiction: str):
        self.jurisdiction = jurisdiction.upper()
        self.dir = Path(keys_dir) / "kek" / self.jurisdiction
        self._keys: dict[int, AESGCM] = {}

    def _versions(self) -> list[int]:
        if not self.dir.is_dir():
            return []
        return sorted(int(m.group(1)) for p in self.dir.iterdir() if (m := _FILE.match(p.name)))

    def _path(self, version: int) -> Path:
        return self.dir / f"v{version:04d}.key"

    def _create(self, version: int) -> bool:
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        # O_EXCL: two replicas rotating at once must not overwrite each other's KEK.
        try:
            fd = os.open(self._path(version), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return False
        with os.fdopen(fd, "wb") as f:
            f.write(os.urandom(KEK_BYTES))
            f.flush()
            os.fsync(f.fileno())
        return True

    def current_version(self) -> int:
        versions = self._versions()
        if versions:
            return versions[-1]
        self._create(1)
        return 1

    def new_version(self) -> int:
        version = self.current_version() + 1
        while not self._create(version):
            version += 1
        return version

    def _aead(self, version: int) -> AESGCM:
        aead = self._keys.get(version)
        if aead is None:
            path = self._path(version)
            try:
                raw = path.read_bytes()
            except FileNotFoundError:
                raise KekError(f"The {self.jurisdiction} key-encryption key version {version} ({path}) is missing. "
                               "Restore it from backup; data keys wrapped by it cannot be read without it.") from None
            if len(raw) != KEK_BYTES:
                raise ConfigError(f"{path} holds {len(raw)} bytes, not a {KEK_BYTES}-byte key. Restore it from backup.")
            aead = self._keys[version] = AESGCM(raw)
        return aead

    def wrap(self, version: int, data_key: bytes, aad: bytes) -> bytes:
        nonce = os.urandom(_NONCE)
        return nonce + self._aead(version).encrypt(nonce, data_key, aad)

    def unwrap(self, version: int, wrapped: bytes, aad: bytes) -> bytes:
        try:
            return self._aead(version).decrypt(wrapped[:_NONCE], wrapped[_NONCE:], aad)
        except InvalidTag:
            raise KekError(f"A data key did not unwrap under the {self.jurisdiction} KEK version {version}; "
                           "the key file or the data_keys row was altered.") from None


def local_providers(keys_dir: Path, jurisdictions: set[str] | list[str]) -> dict[str, KekProvider]:
    """One LocalKekProvider per jurisdiction code."""
    return {j.upper(): LocalKekProvider(keys_dir, j) for j in jurisdictions}
