"""The machine-readable AI-generated marker: the `jaju` extension object and the HTTP header."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from jaju.compliance.policy import Policy

HEADER = "X-Jaju-AI-Generated"
NOTICE_HEADER = "X-Jaju-AI-Disclosure"  # a short notice, percent-free ASCII (HTTP headers are Latin-1)
EXTENSION_FIELD = "jaju"  # the one field jaju adds to OpenAI's response objects


@dataclass(frozen=True, slots=True)
class Label:
    """What marks one response as AI-generated and traces it to model, weights and jurisdiction."""

    model: str
    weights_sha256: str | None
    jurisdiction: str
    request_id: str
    created: datetime
    notices: dict[str, list[str]] = field(default_factory=dict)  # language -> disclosure texts
    watermarked: bool = False
    ai_generated: bool = True

    def extension(self, manifest: dict[str, Any] | None = None) -> dict[str, Any]:
        """The `jaju` object for a response body (the last chunk, when streaming)."""
        body: dict[str, Any] = {
            "ai_generated": self.ai_generated,
            "model": self.model,
            "weights_sha256": self.weights_sha256,
            "jurisdiction": self.jurisdiction,
            "request_id": self.request_id,
            "created": self.created.isoformat(timespec="seconds"),
            "watermark": "green-list-v1" if self.watermarked else None,
            "notices": self.notices,
        }
        if manifest is not None:
            body["provenance"] = manifest
        return body

    def header_value(self) -> str:
        """`X-Jaju-AI-Generated`: a structured-field dictionary (RFC 8941) a proxy can read."""
        parts = ["ai-generated" if self.ai_generated else "ai-generated=?0",
                 f'model="{_sf_string(self.model)}"', f'jurisdiction="{self.jurisdiction}"',
                 f'request-id="{_sf_string(self.request_id)}"']
        if self.weights_sha256:
            parts.append(f'weights-sha256="{self.weights_sha256}"')
        if self.watermarked:
            parts.append('watermark="green-list-v1"')
        return ", ".join(parts)

    def headers(self) -> dict[str, str]:
        """Headers for every generated response (sent before the first streamed byte)."""
        out = {HEADER: self.header_value()}
        english = self.notices.get("en")
        if english:
            out[NOTICE_HEADER] = _ascii(english[0])
        return out


def make_label(policy: Policy, *, model: str, weights_sha256: str | None, jurisdiction: str,
               request_id: str, created: datetime, watermarked: bool = False,
               languages: tuple[str, ...] = ("ko", "en", "ar")) -> Label:
    """The label for one response, carrying every notice due with a response or before use."""
    notices = {lang: policy.notices(lang, when="every_response") + policy.notices(lang, when="before_use")
               for lang in languages}
    return Label(model=model, weights_sha256=weights_sha256, jurisdiction=jurisdiction,
                 request_id=request_id, created=created, notices=notices, watermarked=watermarked)


def model_metadata(policy: Policy) -> dict[str, Any]:
    """The `jaju` object for `/v1/models` entries: notices a client shows before first use."""
    return {"ai_generated": True,
            "notices": {lang: policy.notices(lang, when="before_use") for lang in ("ko", "en", "ar")},
            "marking": sorted(policy.marking_kinds),
            "packs": list(policy.packs)}


def _sf_string(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _ascii(text: str) -> str:
    return text.encode("ascii", "replace").decode("ascii").replace("\r", " ").replace("\n", " ")
