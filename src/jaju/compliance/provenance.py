"""Provenance manifests: the deployment's Ed25519 signature over the content's sha256 and its context."""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from jaju.audit.events import canonical
from jaju.audit.keys import DeploymentKey, b64, key_id_of, verify_signature
from jaju.compliance.labelling import Label

MANIFEST_TYPE = "jaju.provenance.v1"
_SIGNED_FIELDS = ("type", "alg", "key_id", "content_sha256", "content_length", "ai_generated", "model",
                  "weights_sha256", "jurisdiction", "request_id", "created", "watermark")


def content_sha256(content: str | bytes) -> str:
    """sha256 over the content as delivered: the assistant message text, UTF-8."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    return hashlib.sha256(data).hexdigest()


def sign_manifest(key: DeploymentKey, content: str | bytes, label: Label) -> dict[str, Any]:
    """A manifest binding content to model, weights, jurisdiction and request; signed over canonical JSON."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    body = {"type": MANIFEST_TYPE, "alg": "Ed25519", "key_id": key.key_id,
            "content_sha256": content_sha256(data), "content_length": len(data),
            "ai_generated": label.ai_generated, "model": label.model, "weights_sha256": label.weights_sha256,
            "jurisdiction": label.jurisdiction, "request_id": label.request_id,
            "created": label.created.isoformat(timespec="seconds"),
            "watermark": "green-list-v1" if label.watermarked else None}
    return {**body, "signature": b64(key.sign(canonical(body)))}


@dataclass(frozen=True, slots=True)
class Verification:
    """Each check by name, and a sentence for every one that failed."""

    checks: dict[str, bool]
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(self.checks.values()) and not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {"valid": self.ok, "checks": self.checks, "problems": self.problems}


def verify(content: str | bytes, manifest: dict[str, Any], public_key: Ed25519PublicKey) -> Verification:
    """Check a manifest against content and a public key; say exactly what does not match."""
    checks = {"format": True, "key_id": False, "signature": False, "content_sha256": False}
    problems: list[str] = []
    missing = [f for f in (*_SIGNED_FIELDS, "signature") if f not in manifest]
    extra = sorted(set(manifest) - set(_SIGNED_FIELDS) - {"signature"})
    if missing or extra or manifest.get("type") != MANIFEST_TYPE or manifest.get("alg") != "Ed25519":
        checks["format"] = False
        if missing:
            problems.append(f"manifest lacks {', '.join(missing)}")
        if extra:
            problems.append(f"manifest has fields no jaju manifest carries: {', '.join(extra)}")
        if manifest.get("type") != MANIFEST_TYPE:
            problems.append(f"manifest type is {manifest.get('type')!r}, expected {MANIFEST_TYPE!r}")
        if manifest.get("alg") != "Ed25519":
            problems.append(f"signature algorithm is {manifest.get('alg')!r}, expected 'Ed25519'")

    expected_id = key_id_of(public_key)
    checks["key_id"] = manifest.get("key_id") == expected_id
    if not checks["key_id"]:
        problems.append(f"manifest was signed by key {manifest.get('key_id')!r}, "
                        f"but the public key given has id {expected_id!r}")

    body = {k: manifest[k] for k in _SIGNED_FIELDS if k in manifest}
    try:
        signature = base64.b64decode(str(manifest.get("signature", "")), validate=True)
        checks["signature"] = verify_signature(public_key, signature, canonical(body))
        if not checks["signature"]:
            problems.append("signature does not match the manifest's fields under this public key "
                            "(the manifest was altered or signed by another key)")
    except (binascii.Error, ValueError):
        problems.append("signature is not valid base64")

    data = content.encode("utf-8") if isinstance(content, str) else content
    actual = content_sha256(data)
    checks["content_sha256"] = manifest.get("content_sha256") == actual
    if not checks["content_sha256"]:
        problems.append(f"content hashes to {actual}, manifest says {manifest.get('content_sha256')}"
                        + (f" (content is {len(data)} bytes, manifest says {manifest.get('content_length')})"
                           if manifest.get("content_length") != len(data) else ""))
    return Verification(checks, problems)
