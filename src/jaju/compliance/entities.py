"""The vocabulary packs speak: PII entity names, where data goes, and actions ordered by strictness."""

from __future__ import annotations

from enum import Enum

# The entity names the privacy recognizers emit; a pack naming anything else is a typo.
ENTITIES: tuple[str, ...] = (
    "KR_RRN", "KR_FRN", "KR_PASSPORT", "KR_DRIVER_LICENSE", "KR_BRN", "KR_CRN", "KR_PHONE",
    "KR_BANK_ACCOUNT", "CREDIT_CARD", "EMAIL", "IP_ADDRESS", "KR_ADDRESS", "PERSON", "IBAN",
    "SA_NATIONAL_ID",
)

# Where a piece of personal data can end up: sent to a model, kept in the store, written to logs.
SURFACES: tuple[str, ...] = ("model_input", "storage", "logs")

LANGUAGES: tuple[str, ...] = ("ko", "en", "ar")

# Shared names for lawful transfer bases, so packs from different laws can be intersected.
TRANSFER_BASES: tuple[str, ...] = (
    "adequacy",                       # the destination is recognised as adequate
    "standard_contractual_clauses",   # SCCs or the regulator's standard contract
    "binding_corporate_rules",
    "certification",                  # e.g. PIPC-recognised certification, GDPR Art. 42 schemes
    "consent",                        # separate / explicit consent of the data subject
    "contract_necessity",             # necessary to perform a contract with the data subject
    "law_or_treaty",
)


class Action(str, Enum):
    """What to do with a detected entity; the declaration order is the strictness order."""

    ALLOW = "allow"
    HASH = "hash"
    MASK = "mask"
    PSEUDONYMIZE = "pseudonymize"
    REDACT = "redact"
    BLOCK = "block"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def stricter(self, other: Action) -> bool:
        return self.rank > other.rank


_RANK = {a: i for i, a in enumerate(Action)}
