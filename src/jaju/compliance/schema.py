"""The pack schema: what a regulation pack file may say, validated when it loads."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from jaju.compliance.entities import (
    ENTITIES,
    LANGUAGES,
    SURFACES,
    TRANSFER_BASES,
    Action,
)
from jaju.moderation.categories import ACTIONS as MODERATION_ACTIONS
from jaju.moderation.categories import CATEGORIES as MODERATION_CATEGORIES

Entity = Literal[ENTITIES]
Surface = Literal[SURFACES]
Language = Literal[LANGUAGES]
TransferBasisName = Literal[TRANSFER_BASES]
ModerationCategory = Literal[MODERATION_CATEGORIES]
ModerationAction = Literal[MODERATION_ACTIONS]
Jurisdiction = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2,3}$")]
Article = Annotated[str, StringConstraints(min_length=3, strip_whitespace=True)]
Ident = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]

RIGHTS = ("information", "access", "copy", "rectification", "erasure", "restriction", "portability",
          "objection", "withdraw_consent", "explanation", "human_review", "refuse_automated_decision")
# What a high-impact registration can show; a duty names the evidence that discharges it.
EVIDENCE = ("oversight_contacts", "risk_management_plan", "impact_assessment", "explanation_plan",
            "user_protection", "technical_documentation", "event_logging", "data_governance",
            "domestic_representative")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Cited(_Strict):
    """Anything a pack asserts, with the article it rests on."""

    article: Article
    note: str = ""
    # False for guidance a regulator published without force of law; reports say so.
    binding: bool = True


class EntityRule(_Strict):
    """Actions for one entity on each surface; `articles` overrides the article per surface."""

    model_input: Action
    storage: Action
    logs: Action
    article: Article
    articles: dict[Surface, Article] = {}
    note: str = ""

    def action(self, surface: str) -> Action:
        return getattr(self, surface)

    def article_for(self, surface: str) -> str:
        return self.articles.get(surface, self.article)


class ModerationRule(Cited):
    """What to do when moderation detects one category: on the request (input) and the reply (output)."""

    input: ModerationAction
    output: ModerationAction

    def action(self, stage: str) -> str:
        return getattr(self, stage)


class TransferBasis(Cited):
    basis: TransferBasisName
    conditions: str = ""


class Residency(Cited):
    """Where content may be processed and stored without a further transfer basis."""

    processing: list[Jurisdiction] = Field(min_length=1)
    storage: list[Jurisdiction] = Field(min_length=1)
    # Destination -> the decision that recognises it as adequate.
    adequacy: dict[Jurisdiction, str] = {}
    transfer_bases: list[TransferBasis] = []


class Days(Cited):
    days: int = Field(ge=0, le=36500)


class Retention(_Strict):
    content_max_days: Days | None = None
    logs_min_days: Days | None = None
    logs_max_days: Days | None = None

    @model_validator(mode="after")
    def _logs_window(self) -> Retention:
        if self.logs_min_days and self.logs_max_days and self.logs_max_days.days < self.logs_min_days.days:
            raise ValueError("logs_max_days is shorter than logs_min_days")
        return self


class Disclosure(Cited):
    """A notice people must see; text in every supported language."""

    id: Ident
    when: Literal["before_use", "every_response", "output_leaving_service"]
    applies_to: Literal["generative", "high_impact", "all"] = "generative"
    text: dict[Language, Annotated[str, StringConstraints(min_length=5)]]

    @model_validator(mode="after")
    def _all_languages(self) -> Disclosure:
        missing = [lang for lang in LANGUAGES if lang not in self.text]
        if missing:
            raise ValueError(f"text lacks languages: {', '.join(missing)}")
        return self


class Marking(Cited):
    """A machine-readable marking duty on generated output."""

    id: Ident
    kinds: list[Literal["header", "body", "manifest", "watermark"]] = Field(min_length=1)


class Labelling(_Strict):
    disclosures: list[Disclosure] = []
    markings: list[Marking] = []


class Right(Cited):
    right: Literal[RIGHTS]
    deadline_days: int | None = Field(default=None, ge=1, le=365)


class Duty(Cited):
    """A high-impact duty and the evidence a registration must hold to meet it."""

    id: Ident
    description: str = Field(min_length=5)
    evidence: Literal[EVIDENCE]


class Incident(Cited):
    notify_within_hours: int = Field(ge=1, le=8760)


class Pack(_Strict):
    """One regulation (or an operator's own rules) as data."""

    id: Ident
    title: str = Field(min_length=3)
    law: str = Field(min_length=3)  # the official name, in the original language
    jurisdiction: Jurisdiction
    version: str = Field(min_length=4)  # the text version the pack follows
    source: str = Field(min_length=8)  # where the official text is published
    binding: bool = True
    pii: dict[Entity, EntityRule] = {}
    pii_default: EntityRule | None = None
    moderation: dict[ModerationCategory, ModerationRule] = {}
    residency: Residency | None = None
    retention: Retention | None = None
    labelling: Labelling = Labelling()
    rights: list[Right] = []
    high_impact: list[Duty] = []
    incident: Incident | None = None

    @model_validator(mode="after")
    def _unique_ids(self) -> Pack:
        for kind, items in (("disclosure", self.labelling.disclosures), ("marking", self.labelling.markings),
                            ("high_impact duty", self.high_impact), ("right", self.rights)):
            seen: set[str] = set()
            for item in items:
                key = getattr(item, "id", None) or getattr(item, "right", "")
                if key in seen:
                    raise ValueError(f"{kind} {key!r} appears twice")
                seen.add(key)
        return self

    def pii_rule(self, entity: str) -> EntityRule | None:
        return self.pii.get(entity, self.pii_default)
