"""Per-tenant HMAC keys derived from one deployment secret (hash operator, vault lookups)."""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

from jaju.errors import ConfigError

SECRET_NAME = "privacy-hmac.key"


class TenantHasher:
    """HMAC-SHA256 under a key that differs per tenant, so equal values never link across tenants."""

    def __init__(self, secret: bytes):
        if len(secret) < 32:
            raise ValueError("the privacy secret must be at least 32 bytes")
        self._secret = secret

    @classmethod
    def load_or_create(cls, keys_dir: Path) -> TenantHasher:
        """Read `privacy-hmac.key` from the keys directory, creating it (0600) on first run."""
        keys_dir.mkdir(parents=True, exist_ok=True)
        path = keys_dir / SECRET_NAME
        if not path.exists():
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                return cls.load_or_create(keys_dir)
            with os.fdopen(fd, "wb") as f:
                f.write(os.urandom(32))
        secret = path.read_bytes()
        if len(secret) < 32:
            raise ConfigError(f"The privacy secret {path} is shorter than 32 bytes. Restore it from backup; "
                              "a new one breaks existing pseudonyms and hashes.")
        return cls(secret)

    def _key(self, tenant_id: str) -> bytes:
        return hmac.new(self._secret, b"jaju/privacy/tenant/" + tenant_id.encode(), hashlib.sha256).digest()

    def hexdigest(self, tenant_id: str, value: str, purpose: str = "value") -> str:
        """Hex HMAC of a value for one tenant; purpose keeps lookups and visible hashes apart."""
        msg = purpose.encode() + b"\x00" + value.encode("utf-8")
        return hmac.new(self._key(tenant_id), msg, hashlib.sha256).hexdigest()
