"""PrivacyPolicy: per entity type, what happens to it in model input, storage, logs and model output.

A policy is built from a plain dict (what compliance packs produce):

    PrivacyPolicy.from_dict({
        "KR_RRN": {"model_input": "block", "storage": "redact", "logs": "redact"},
        "PERSON": {"model_input": "pseudonymize"},           # unnamed purposes keep their defaults
        "*": {"logs": "hash"},                               # "*" changes the rule for unlisted entities
    }, score_threshold=0.6)

Actions: allow, redact, mask, pseudonymize (also "pseudonymise"), hash, block. The optional purpose
"output" decides what happens to personal data the model produced that the tenant did not send.

A pseudonym in model input is a placeholder ([PERSON_1]) or a surrogate (a fake but format-valid
value such as 김민준 or 010-0xxx-xxxx, see surrogates.py). "surrogate" and "placeholder" are
pseudonymize with that form chosen; plain "pseudonymize" keeps the default form of the entity
(DEFAULT_SURROGATES). The form only changes what the model sees; both are vault-backed and restored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from jaju.errors import ConfigError

ACTIONS = ("allow", "redact", "mask", "pseudonymize", "hash", "block")
PURPOSES = ("model_input", "storage", "logs", "output")
_ALIASES = {"pseudonymise": "pseudonymize", "pseudonym": "pseudonymize", "replace": "redact", "keep": "allow"}
_FORMS = ("surrogate", "placeholder")
# Entities whose model-input pseudonyms are surrogates unless a policy says "placeholder"
# (chosen by benchmarks/pseudonym_bench.py: see docs/benchmarks.md).
DEFAULT_SURROGATES: frozenset[str] = frozenset({"PERSON"})


@dataclass(frozen=True, slots=True)
class EntityRule:
    """The action for each purpose."""

    model_input: str = "pseudonymize"
    storage: str = "mask"
    logs: str = "redact"
    output: str = "allow"

    def for_purpose(self, purpose: str) -> str:
        return getattr(self, purpose)


_IDENTIFIER = EntityRule("pseudonymize", "mask", "redact", "mask")
DEFAULT_RULES: dict[str, EntityRule] = {
    # National and travel identifiers never reach a model in clear; the model sees [KR_RRN_1].
    "KR_RRN": _IDENTIFIER, "KR_FRN": _IDENTIFIER, "KR_PASSPORT": _IDENTIFIER,
    "KR_DRIVER_LICENSE": _IDENTIFIER, "SA_NATIONAL_ID": _IDENTIFIER,
    "CREDIT_CARD": EntityRule("pseudonymize", "mask", "redact", "redact"),
    "KR_BANK_ACCOUNT": _IDENTIFIER, "IBAN": _IDENTIFIER,
    "PERSON": EntityRule("pseudonymize", "pseudonymize", "redact", "allow"),
    "KR_ADDRESS": EntityRule("pseudonymize", "pseudonymize", "redact", "allow"),
    "KR_PHONE": EntityRule("pseudonymize", "mask", "redact", "allow"),
    "EMAIL": EntityRule("pseudonymize", "mask", "redact", "allow"),
    "IP_ADDRESS": EntityRule("pseudonymize", "mask", "hash", "allow"),
    # Business numbers identify companies more often than people.
    "KR_BRN": EntityRule("allow", "allow", "mask", "allow"),
    "KR_CRN": EntityRule("allow", "allow", "mask", "allow"),
}


def _action(value: Any, where: str) -> str:
    choices = ", ".join((*ACTIONS, *_FORMS))
    if not isinstance(value, str):
        raise ConfigError(f"Privacy policy {where}: action must be a string, one of {choices}.")
    action = _ALIASES.get(value.lower(), value.lower())
    if action not in ACTIONS and action not in _FORMS:
        raise ConfigError(f"Privacy policy {where}: unknown action {value!r}; use one of {choices}.")
    return action


@dataclass(frozen=True, slots=True)
class PrivacyPolicy:
    """Rules per entity type, a rule for everything else, and the detection threshold."""

    rules: Mapping[str, EntityRule] = field(default_factory=lambda: dict(DEFAULT_RULES))
    default: EntityRule = EntityRule()
    score_threshold: float = 0.5
    # Entities pseudonymised in model input with surrogates rather than placeholders.
    surrogates: frozenset[str] = DEFAULT_SURROGATES
    _acting: dict[str, frozenset[str] | None] = field(init=False, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Mapping[str, str]], score_threshold: float = 0.5) -> PrivacyPolicy:
        """Defaults overridden by `{entity: {purpose: action}}`; "*" overrides the default rule."""
        rules = dict(DEFAULT_RULES)
        default = EntityRule()
        surrogates = set(DEFAULT_SURROGATES)
        # "*" first, so entities listed beside it start from the changed default.
        for entity, purposes in sorted(data.items(), key=lambda kv: kv[0] != "*"):
            if not isinstance(purposes, Mapping):
                raise ConfigError(f"Privacy policy {entity}: expected a table of purpose = action.")
            changes = {}
            for purpose, action in purposes.items():
                if purpose not in PURPOSES:
                    raise ConfigError(f"Privacy policy {entity}: unknown purpose {purpose!r}; "
                                      f"use {', '.join(PURPOSES)}.")
                chosen = _action(action, f"{entity}.{purpose}")
                if chosen in _FORMS:
                    if purpose != "model_input" or entity == "*":
                        raise ConfigError(f"Privacy policy {entity}.{purpose}: {chosen!r} applies to one "
                                          "entity's model_input; use pseudonymize elsewhere.")
                    (surrogates.add if chosen == "surrogate" else surrogates.discard)(entity)
                    chosen = "pseudonymize"
                changes[purpose] = chosen
            if entity == "*":
                default = replace(default, **changes)
            else:
                rules[entity] = replace(rules.get(entity, default), **changes)
        return cls(rules, default, score_threshold, frozenset(surrogates))

    def action(self, entity: str, purpose: str) -> str:
        """The action; "surrogate" for model input pseudonymised with surrogates."""
        if purpose not in PURPOSES:
            raise ValueError(f"unknown purpose {purpose!r}")
        action = self.rules.get(entity, self.default).for_purpose(purpose)
        if action == "pseudonymize" and purpose == "model_input" and entity in self.surrogates:
            return "surrogate"
        return action

    def acting_on(self, purpose: str) -> frozenset[str] | None:
        """The entities whose action for `purpose` is not "allow"; None when the default rule acts (any may).

        Detection can stop at these: finding a name in model output whose rule is "allow" changes nothing.
        Worked out once per policy (the output scan asks for every streamed token).
        """
        return self._acting[purpose]

    def __post_init__(self) -> None:
        acting = {purpose: None if self.default.for_purpose(purpose) != "allow" else
                  frozenset(e for e, rule in self.rules.items() if rule.for_purpose(purpose) != "allow")
                  for purpose in PURPOSES}
        object.__setattr__(self, "_acting", acting)  # frozen: set once, here
