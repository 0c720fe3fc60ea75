"""ComplianceService: what the chat path, routers and CLI call; built once from settings."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from jaju.audit.keys import DeploymentKey
from jaju.compliance.highimpact import HighImpactService
from jaju.compliance.labelling import Label, make_label
from jaju.compliance.policy import Policy
from jaju.compliance.provenance import Verification, sign_manifest, verify
from jaju.compliance.service import PolicyService
from jaju.compliance.settings import ComplianceSettings
from jaju.compliance.watermark import (
    GreenList,
    WatermarkDetector,
    WatermarkHook,
    watermark_key,
)
from jaju.errors import JajuError

Tokenizer = Callable[[str], list[int]]


class ComplianceService:
    """Policy per tenant, labels, manifests, the watermark hook and detector."""

    def __init__(self, policies: PolicyService, key: DeploymentKey, settings: ComplianceSettings,
                 high_impact: HighImpactService, tokenizer_for: Callable[[str], Tokenizer]):
        self.policies = policies
        self.key = key
        self.settings = settings
        self.high_impact = high_impact
        self._tokenizer_for = tokenizer_for
        self.green = GreenList(watermark_key(key), settings.watermark.gamma)
        self._hook = WatermarkHook(self.green, settings.watermark.delta)

    def policy_for(self, tenant_id: str, jurisdiction: str, packs: Sequence[str] = (),
                   application: str | None = None) -> Policy:
        """The tenant's policy; the high-impact variant when the tenant or application is registered."""
        high = self.high_impact.is_high_impact(tenant_id, application)
        return self.policies.resolve(jurisdiction, tuple(packs), high)

    def watermark_hook(self, policy: Policy) -> WatermarkHook | None:
        """The logits hook to add to a request, or None when neither packs nor settings ask for it."""
        mode = self.settings.watermark.mode
        if mode == "always" or (mode == "required" and policy.watermark_required):
            return self._hook
        return None

    def label(self, policy: Policy, *, model: str, weights_sha256: str | None, jurisdiction: str,
              request_id: str, created: datetime, watermarked: bool) -> Label:
        return make_label(policy, model=model, weights_sha256=weights_sha256, jurisdiction=jurisdiction,
                          request_id=request_id, created=created, watermarked=watermarked)

    def manifest(self, content: str, label: Label) -> dict:
        """The signed provenance manifest over the final assistant text."""
        return sign_manifest(self.key, content, label)

    def verify(self, content: str | bytes, manifest: dict, public_key: Ed25519PublicKey | None = None) -> Verification:
        return verify(content, manifest, public_key or self.key.public)

    def detector(self, model: str) -> WatermarkDetector:
        """A detector using `model`'s tokenizer (the watermark lives in that model's token ids)."""
        try:
            tokenize = self._tokenizer_for(model)
        except KeyError:
            raise JajuError(f"Model {model!r} is not loaded here, so its tokenizer is unavailable; "
                            "detect with the model that generated the text.") from None
        return WatermarkDetector(self.green, tokenize, self.settings.watermark.z_threshold)
