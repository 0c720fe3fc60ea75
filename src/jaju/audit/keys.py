"""The deployment's Ed25519 signing key: generated on first run, public half shareable."""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from jaju.errors import ConfigError

PRIVATE_NAME = "deployment-ed25519.pem"
PUBLIC_NAME = "deployment-ed25519.pub.pem"


def key_id_of(public: Ed25519PublicKey) -> str:
    """First 16 hex digits of sha256 over the raw public key."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


class DeploymentKey:
    """Signs audit checkpoints and provenance manifests."""

    def __init__(self, private: Ed25519PrivateKey):
        self._private = private
        self.public = private.public_key()
        self.key_id = key_id_of(self.public)

    @classmethod
    def load_or_create(cls, keys_dir: Path) -> DeploymentKey:
        keys_dir.mkdir(parents=True, exist_ok=True)
        path = keys_dir / PRIVATE_NAME
        if not path.exists():
            private = Ed25519PrivateKey.generate()
            pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption())
            # O_EXCL: two processes starting together must not overwrite each other's key.
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                return cls.load_or_create(keys_dir)
            with os.fdopen(fd, "wb") as f:
                f.write(pem)
            (keys_dir / PUBLIC_NAME).write_bytes(public_pem(private.public_key()))
        try:
            private = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except ValueError as e:
            raise ConfigError(f"The deployment key {path} is unreadable ({e}). Restore it from backup; "
                              "a new key cannot sign for the old audit trail.") from None
        if not isinstance(private, Ed25519PrivateKey):
            raise ConfigError(f"The deployment key {path} is not an Ed25519 key.")
        return cls(private)

    def sign(self, message: bytes) -> bytes:
        return self._private.sign(message)

    def public_pem(self) -> bytes:
        return public_pem(self.public)


def public_pem(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def load_public(pem: bytes) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


def verify_signature(public: Ed25519PublicKey, signature: bytes, message: bytes) -> bool:
    try:
        public.verify(signature, message)
        return True
    except InvalidSignature:
        return False


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
