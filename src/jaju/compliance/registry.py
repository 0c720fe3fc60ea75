"""The built-in packs, listed explicitly, and the packs each jurisdiction gets by default."""

from __future__ import annotations

from types import MappingProxyType

# Pack id -> file shipped in jaju/compliance/packs/. Operator packs are added through settings.
BUILTIN_PACKS = MappingProxyType({
    "pipa_kr": "pipa_kr.yaml",
    "ai_basic_act_kr": "ai_basic_act_kr.yaml",
    "gdpr_eu": "gdpr_eu.yaml",
    "ai_act_eu": "ai_act_eu.yaml",
    "pdpl_sa": "pdpl_sa.yaml",
})

DEFAULT_PACKS = MappingProxyType({
    "KR": ("pipa_kr", "ai_basic_act_kr"),
    "EU": ("gdpr_eu", "ai_act_eu"),
    "SA": ("pdpl_sa",),
})
