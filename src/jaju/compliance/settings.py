"""The `[compliance]` settings section, validated by this package."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from jaju.errors import ConfigError


class WatermarkSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # "required": only where a pack asks for it (AI Act Art. 50(2)); "always" / "never" override.
    mode: str = Field("required", pattern="^(required|always|never)$")
    gamma: float = Field(0.25, gt=0.0, lt=1.0)
    # 3.0, not the paper's 2.0: replies of ~64 tokens from a small low-entropy model need the stronger
    # bias to reach z >= 4 (docs/benchmarks.md, compliance section).
    delta: float = Field(3.0, ge=0.0, le=20.0)
    z_threshold: float = Field(4.0, gt=0.0)


class ComplianceSettings(BaseModel):
    """Operator packs, per-jurisdiction defaults, packs for every tenant, and the watermark."""

    model_config = ConfigDict(extra="forbid")

    extra_packs: list[Path] = []
    defaults: dict[str, list[str]] = {}  # jurisdiction -> packs, replacing the built-in defaults
    always: list[str] = []  # packs merged into every tenant's policy (e.g. an operator's house rules)
    watermark: WatermarkSettings = WatermarkSettings()
    # How often `serve` runs the retention job (0 turns the schedule off; `jaju retention run` still works).
    retention_every_hours: float = Field(24.0, ge=0.0)
    # For reports: who the controller is (GDPR Art. 30(1)(a)) and why content is processed.
    controller: dict[str, str] = {}
    purposes: list[str] = []


def compliance_settings(raw: dict[str, Any]) -> ComplianceSettings:
    """Validate `settings.compliance`, or raise ConfigError saying which key to fix."""
    try:
        return ComplianceSettings.model_validate(raw)
    except ValidationError as e:
        lines = [f"- compliance.{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in e.errors()]
        raise ConfigError("Invalid [compliance] settings:\n" + "\n".join(lines)) from None
