"""Operators: what replaces a detected value (redact, mask, pseudonymize, surrogate, hash); block is a policy outcome."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from jaju.errors import ApiError
from jaju.privacy.hashing import TenantHasher
from jaju.privacy.recognizer import RecognizerResult
from jaju.privacy.session import Session, canonical

OPERATORS = ("redact", "mask", "pseudonymize", "surrogate", "hash", "allow")


def redact(entity: str) -> str:
    return f"<{entity}>"


def mask(entity: str, value: str, char: str = "*") -> str:
    """Hide most of a value but keep its shape: 901010-1******, 010-****-5678, h***@example.com."""
    if entity in ("KR_RRN", "KR_FRN"):
        return _mask_alnum(value, keep_first=7, char=char)
    if entity == "KR_PHONE":
        return _mask_middle_group(value, char)
    if entity in ("CREDIT_CARD", "KR_BANK_ACCOUNT", "IBAN"):
        return _mask_alnum(value, keep_last=4, char=char)
    if entity == "EMAIL":
        local, _, domain = value.partition("@")
        return local[:1] + char * max(1, len(local) - 1) + "@" + domain
    if entity == "PERSON":
        return value[0] + char * (len(value) - 2) + value[-1] if len(value) > 2 else value[0] + char
    if entity == "KR_ADDRESS":
        # Keep the region words, hide the numbers that point at one building.
        return "".join(char if c.isdigit() else c for c in value)
    return _mask_alnum(value, keep_last=2, char=char)


def _mask_alnum(value: str, keep_first: int = 0, keep_last: int = 0, char: str = "*") -> str:
    idx = [i for i, c in enumerate(value) if c.isalnum()]
    hidden = set(idx[keep_first:len(idx) - keep_last if keep_last else None])
    return "".join(char if i in hidden else c for i, c in enumerate(value))


def _mask_middle_group(value: str, char: str) -> str:
    """Hide the exchange (middle) group of a phone number: 010-****-5678, 02-***-4567."""
    groups = [m.span() for m in re.finditer(r"\d+", value)]
    if len(groups) >= 3:
        lo, hi = groups[-2]
        hidden = set(range(lo, hi))
    else:
        at = [i for i, c in enumerate(value) if c.isdigit()]
        hidden = set(at[-8:-4]) if len(at) >= 10 else set(at[2:-4])
    return "".join(char if i in hidden else c for i, c in enumerate(value))


@dataclass(frozen=True, slots=True)
class OperatorContext:
    """What operators need beyond the value: tenant (hash), session (pseudonymize, surrogate) and, for
    surrogates, the real values of the text at hand (a surrogate is never one of them)."""

    tenant_id: str
    hasher: TenantHasher
    session: Session | None = None
    real_values: frozenset[str] = frozenset()


def apply(action: str, entity: str, value: str, ctx: OperatorContext, params: Mapping[str, Any] | None = None) -> str:
    """The replacement text for one value under one action."""
    params = params or {}
    if action == "allow":
        return value
    if action == "redact":
        return params.get("new_value") or redact(entity)
    if action == "mask":
        return mask(entity, value, params.get("masking_char", "*"))
    if action == "hash":
        digest = ctx.hasher.hexdigest(ctx.tenant_id, canonical(entity, value), "hash")
        return f"<{entity}#{digest[:16]}>"
    if action in ("pseudonymize", "surrogate"):
        if ctx.session is None:
            raise ValueError(f"{action} needs a session")
        digest = ctx.hasher.hexdigest(ctx.tenant_id, f"{entity}\x00{canonical(entity, value)}", "vault")
        if action == "surrogate":
            return ctx.session.surrogate_for(entity, value, digest, ctx.real_values)
        return ctx.session.placeholder_for(entity, value, digest)
    raise ValueError(f"unknown operator {action!r}")


def replace_spans(text: str, results: list[RecognizerResult],
                  replacement: Callable[[RecognizerResult, str], str]) -> tuple[str, list[dict]]:
    """Text with each (non-overlapping) result replaced, and where each replacement landed."""
    out: list[str] = []
    items: list[dict] = []
    pos = 0
    length = 0
    for r in sorted(results, key=lambda r: r.start):
        piece = text[pos:r.start]
        out.append(piece)
        length += len(piece)
        new = replacement(r, text[r.start:r.end])
        items.append({"start": length, "end": length + len(new), "entity_type": r.entity_type, "text": new})
        out.append(new)
        length += len(new)
        pos = r.end
    out.append(text[pos:])
    return "".join(out), items


def blocked_error(entities: set[str]) -> ApiError:
    """422 naming the entity types (never the values) that policy does not let through."""
    return ApiError(422, "The request contains personal data that this tenant's privacy policy blocks: "
                         f"{', '.join(sorted(entities))}. Remove it and try again.",
                    "invalid_request_error", "pii_blocked")
