"""A conversation's pseudonym map: stable placeholders such as [PERSON_1] and the values behind them."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

# What a placeholder looks like; the restorer relies on '[' never appearing inside one.
PLACEHOLDER = re.compile(r"\[([A-Z][A-Z_]*)_(\d+)\]")
# Entities compared by their digits alone, so 010-1234-5678 and 01012345678 share a placeholder.
_NUMERIC = frozenset({"KR_RRN", "KR_FRN", "KR_DRIVER_LICENSE", "KR_BRN", "KR_CRN", "KR_PHONE",
                      "KR_BANK_ACCOUNT", "CREDIT_CARD", "SA_NATIONAL_ID"})


def canonical(entity: str, value: str) -> str:
    """The form two mentions of the same value share (separators, width and case ignored)."""
    v = unicodedata.normalize("NFKC", value)
    if entity in _NUMERIC:
        return "".join(c for c in v if c.isdigit())
    if entity in ("IBAN", "KR_PASSPORT"):
        return "".join(v.split()).upper()
    return " ".join(v.split()).casefold()


@dataclass(slots=True)
class NewEntry:
    placeholder: str
    entity: str
    value: str
    digest: str


@dataclass(slots=True)
class Session:
    """Pseudonyms of one tenant's conversation; returned by protect(), used by restore and scan_output."""

    tenant_id: str
    conversation: str  # tenant-keyed digest of the caller's conversation key
    subject: str | None = None
    values: dict[str, str] = field(default_factory=dict)  # placeholder -> original value
    by_digest: dict[str, str] = field(default_factory=dict)  # value digest -> placeholder
    counters: Counter[str] = field(default_factory=Counter)
    new: list[NewEntry] = field(default_factory=list)
    # Digests of every value the tenant sent (any action), so output scanning can tell them apart.
    sent: set[str] = field(default_factory=set)
    # Entity counts detected in this request, for audit events (types and numbers only).
    detected: Counter[str] = field(default_factory=Counter)

    def remember(self, placeholder: str, digest: str, value: str) -> None:
        """Load an existing vault entry."""
        m = PLACEHOLDER.fullmatch(placeholder)
        if m is None:
            raise ValueError(f"not a placeholder: {placeholder!r}")
        self.values[placeholder] = value
        self.by_digest[digest] = placeholder
        self.counters[m.group(1)] = max(self.counters[m.group(1)], int(m.group(2)))

    def placeholder_for(self, entity: str, value: str, digest: str) -> str:
        """The placeholder already given to this value, or the next free one for its entity type."""
        existing = self.by_digest.get(digest)
        if existing is not None:
            return existing
        self.counters[entity] += 1
        placeholder = f"[{entity}_{self.counters[entity]}]"
        self.values[placeholder] = value
        self.by_digest[digest] = placeholder
        self.new.append(NewEntry(placeholder, entity, value, digest))
        return placeholder

    def restore(self, text: str) -> str:
        """Every known placeholder in text replaced by its value; unknown ones stay."""
        if "[" not in text or not self.values:
            return text
        return PLACEHOLDER.sub(lambda m: self.values.get(m.group(0), m.group(0)), text)
