"""A model card: provenance, licence, intended use, limits and evaluation results where present."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from jaju.compliance.reports.base import Report, md_table

DEFAULT_LIMITS = ["Small models make factual mistakes; verify answers that matter.",
                  "Trained mostly on English and Chinese text; Korean and Arabic quality is lower.",
                  ("Not for decisions about people without human review (high-impact or high-risk uses must be "
                   "registered and overseen).")]


def model_card(model: Mapping[str, Any], *, generated_at: datetime, intended_use: str = "",
               limitations: Sequence[str] = (), evaluations: Sequence[Mapping[str, Any]] = ()) -> Report:
    """The card for one model; `model` is a ModelInfo or catalog entry as a dict."""
    data = {"article": "AI Act Art. 53(1)(a)-(b); Annex XI, XII (for providers of general-purpose models)",
            "generated_at": generated_at.isoformat(timespec="seconds"),
            "model": {k: model.get(k) for k in ("id", "kind", "backend", "jurisdiction", "sha256", "size",
                                                "license", "origin", "context_length")},
            "intended_use": intended_use or "General assistant answers in Korean and English inside this deployment.",
            "limitations": list(limitations or DEFAULT_LIMITS),
            "evaluations": [dict(e) for e in evaluations]}
    m = data["model"]
    md = [f"# Model card: {m['id']}", "", f"Generated {data['generated_at']}.", "", "## Provenance", "",
          md_table(["field", "value"], [[k, v] for k, v in m.items() if v is not None]), "",
          "The sha256 identifies exactly which weights answered; every response's provenance manifest repeats it.",
          "", "## Intended use", "", data["intended_use"], "", "## Limitations", "",
          *[f"- {x}" for x in data["limitations"]], "", "## Evaluation results", ""]
    if data["evaluations"]:
        cols = sorted({k for e in data["evaluations"] for k in e})
        md.append(md_table(cols, [[e.get(c) for c in cols] for e in data["evaluations"]]))
    else:
        md.append("No evaluation results recorded for this model in this deployment.")
    return Report("model-card", data, "\n".join(md) + "\n")
