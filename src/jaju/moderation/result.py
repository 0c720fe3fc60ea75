"""One text's moderation result, in OpenAI's shape with jaju's Korean categories in the `jaju` field."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jaju.moderation.categories import CATEGORIES, OPENAI_KEYS, PRIMARY, openai_view


@dataclass(frozen=True, slots=True)
class ModerationResult:
    """Scores per jaju category and per OpenAI key; `quoted` lists categories only reported, not used."""

    scores: dict[str, float]       # jaju category -> score (0..1), every category present
    openai_scores: dict[str, float]
    openai_flags: dict[str, bool]
    quoted: tuple[str, ...] = ()
    threshold: float = 0.5

    @classmethod
    def build(cls, scores: dict[str, float], subs: dict[str, float], quoted: set[str],
              threshold: float) -> ModerationResult:
        full = {c: round(scores.get(c, 0.0), 4) for c in CATEGORIES}
        flags, oscores = openai_view(full, subs, threshold)
        return cls(full, oscores, flags, tuple(c for c in CATEGORIES if c in quoted), threshold)

    @property
    def detected(self) -> tuple[str, ...]:
        """jaju categories at or over the threshold."""
        return tuple(c for c in CATEGORIES if self.scores[c] >= self.threshold)

    @property
    def flagged(self) -> bool:
        """OpenAI's meaning: some harmful category is over the threshold (pii_exposure alone is not)."""
        return any(self.scores[c] >= self.threshold for c in PRIMARY)

    def to_openai(self) -> dict[str, Any]:
        return {
            "flagged": self.flagged,
            "categories": dict(self.openai_flags),
            "category_scores": dict(self.openai_scores),
            "category_applied_input_types": {k: ["text"] for k in OPENAI_KEYS},
            "jaju": {
                "categories": {c: self.scores[c] >= self.threshold for c in CATEGORIES},
                "category_scores": dict(self.scores),
                "quoted": list(self.quoted),
            },
        }
