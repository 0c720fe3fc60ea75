"""Uploaded filenames: normalised to a bare name, then screened for personal data by the tenant's policy.

Filenames travel further than people expect: they are shown in search hits and cited in grounded
prompts, which may reach a model abroad. So a name is cut to its last path component without control
characters, and identifiers in it are handled with the policy's `storage` action (block refuses the
file; pseudonymize, which needs a conversation to map back, masks instead).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Protocol

from jaju.knowledge.errors import DocumentError
from jaju.privacy.analyzer import Analyzer
from jaju.privacy.hashing import TenantHasher
from jaju.privacy.operators import OperatorContext, apply, replace_spans
from jaju.privacy.policy import PrivacyPolicy

MAX_NAME = 255
FALLBACK = "document"


class PiiBlocked(DocumentError):
    code = "pii_blocked"


def clean_filename(name: str | None) -> str:
    """The last path component, NFC, without control or format characters, at most 255 characters.

    `../../x.txt` -> `x.txt`; `C:\\Users\\김\\a.hwp` -> `a.hwp`; an empty or dot-only name -> `document`.
    """
    name = unicodedata.normalize("NFC", name or "")
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C")
    name = re.split(r"[/\\]", name)[-1].strip().lstrip(".").strip()
    if not name:
        return FALLBACK
    if len(name) > MAX_NAME:
        stem, dot, ext = name.rpartition(".")
        keep = dot + ext if dot and len(ext) <= 10 else ""
        name = name[:MAX_NAME - len(keep)] + keep
    return name


class PiiScanner(Protocol):
    """What filename screening needs from jaju.privacy (PrivacyService fits)."""

    analyzer: Analyzer
    hasher: TenantHasher


def screen_filename(privacy: PiiScanner, tenant_id: str, name: str, policy: PrivacyPolicy) -> str:
    """The name to store under the tenant's policy; PiiBlocked when an identifier must not be kept."""
    # Separators glue words together in names (박서연_850315-1234567.txt); spaces of the same length
    # let the recognizers see the words while keeping every offset valid for the original.
    probe = re.sub(r"[_+.]", " ", name)
    results = privacy.analyzer.analyze(probe, score_threshold=policy.score_threshold)
    if not results:
        return name
    blocked = sorted({r.entity_type for r in results if policy.action(r.entity_type, "storage") == "block"})
    if blocked:
        shown, _ = replace_spans(name, results, lambda r, _v: f"<{r.entity_type}>")
        raise PiiBlocked(shown, "the file name contains personal data that this tenant's privacy policy "
                                f"does not allow to be stored ({', '.join(blocked)}); rename the file")
    ctx = OperatorContext(tenant_id, privacy.hasher)

    def replacement(r, value: str) -> str:
        action = policy.action(r.entity_type, "storage")
        return apply("mask" if action == "pseudonymize" else action, r.entity_type, value, ctx)

    screened, _ = replace_spans(name, results, replacement)
    return screened
