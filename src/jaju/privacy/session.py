"""A conversation's pseudonym map: placeholders ([PERSON_1]) or surrogates (김민준) and the values behind them."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

from jaju.privacy.matching import TokenMatcher
from jaju.privacy.surrogates import surrogate_for

# The canonical placeholder; the model may write it in other forms (see matching.py).
PLACEHOLDER = re.compile(r"\[([A-Z][A-Z_]*)_(\d+)\]")
# Entities compared by their digits alone, so 010-1234-5678 and 01012345678 share a placeholder.
_NUMERIC = frozenset({"KR_RRN", "KR_FRN", "KR_DRIVER_LICENSE", "KR_BRN", "KR_CRN", "KR_PHONE",
                      "KR_BANK_ACCOUNT", "CREDIT_CARD", "SA_NATIONAL_ID"})
_SURROGATE_KEY = "surrogate:"


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
    placeholder: str  # the token the model sees: a placeholder or a surrogate
    entity: str
    value: str
    digest: str


@dataclass(slots=True)
class Session:
    """Pseudonyms of one tenant's conversation; returned by protect(), used by restore and scan_output."""

    tenant_id: str
    conversation: str  # tenant-keyed digest of the caller's conversation key
    subject: str | None = None
    values: dict[str, str] = field(default_factory=dict)  # token (placeholder or surrogate) -> original value
    entities: dict[str, str] = field(default_factory=dict)  # token -> entity type
    by_digest: dict[str, str] = field(default_factory=dict)  # value digest (surrogates: prefixed) -> token
    counters: Counter[str] = field(default_factory=Counter)
    new: list[NewEntry] = field(default_factory=list)
    # Digests of every value the tenant sent (any action), so output scanning can tell them apart.
    sent: set[str] = field(default_factory=set)
    # Entity counts detected in this request, for audit events (types and numbers only).
    detected: Counter[str] = field(default_factory=Counter)
    _matcher: TokenMatcher | None = None
    _matcher_size: int = -1

    def remember(self, placeholder: str, digest: str, value: str, entity: str | None = None) -> None:
        """Load an existing vault entry (a placeholder, or a surrogate of `entity`)."""
        m = PLACEHOLDER.fullmatch(placeholder)
        if m is not None:
            self.counters[m.group(1)] = max(self.counters[m.group(1)], int(m.group(2)))
            self.by_digest[digest] = placeholder
            entity = m.group(1)
        elif entity is None:
            raise ValueError(f"not a placeholder: {placeholder!r}")
        else:
            self.by_digest[_SURROGATE_KEY + digest] = placeholder
        self.values[placeholder] = value
        self.entities[placeholder] = entity

    def placeholder_for(self, entity: str, value: str, digest: str) -> str:
        """The placeholder already given to this value, or the next free one for its entity type."""
        existing = self.by_digest.get(digest)
        if existing is not None:
            return existing
        self.counters[entity] += 1
        return self._add(f"[{entity}_{self.counters[entity]}]", entity, value, digest, digest)

    def surrogate_for(self, entity: str, value: str, digest: str, avoid: Collection[str] = ()) -> str:
        """The surrogate already given to this value, or a new one that is no real value of the
        conversation (nor in `avoid`); a placeholder for entities without a surrogate generator."""
        existing = self.by_digest.get(_SURROGATE_KEY + digest)
        if existing is not None:
            return existing
        taken = [*self.values, *self.values.values(), *avoid]
        token = surrogate_for(entity, value, digest, taken)
        if token is None:
            return self.placeholder_for(entity, value, digest)
        return self._add(token, entity, value, digest, _SURROGATE_KEY + digest)

    def _add(self, token: str, entity: str, value: str, digest: str, key: str) -> str:
        self.values[token] = value
        self.entities[token] = entity
        self.by_digest[key] = token
        self.new.append(NewEntry(token, entity, value, digest))
        return token

    def is_token(self, text: str) -> bool:
        """Whether text is exactly a surrogate or placeholder this session gave out."""
        return text in self.values

    def matcher(self) -> TokenMatcher:
        """The matcher for the tokens known now (rebuilt when a token is added)."""
        if self._matcher is None or self._matcher_size != len(self.values):
            self._matcher = TokenMatcher(self.values, self.entities)
            self._matcher_size = len(self.values)
        return self._matcher

    def restore(self, text: str, escape: Callable[[str], str] | None = None) -> str:
        """Every known token in text (in any form the model wrote it) replaced by its value."""
        if not self.values or not text:
            return text
        return self.matcher().sub(text, escape)
