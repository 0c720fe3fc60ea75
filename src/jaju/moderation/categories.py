"""The moderation vocabulary: jaju's Korean categories and how each maps onto OpenAI's keys."""

from __future__ import annotations

from types import MappingProxyType

# jaju's categories, in the order the issue and the docs list them. Packs name these ids.
CATEGORIES: tuple[str, ...] = (
    "profanity_insult",     # 욕설/모욕
    "hate_discrimination",  # 혐오·차별
    "sexual",               # 성적 표현
    "violence_threat",      # 폭력·위협
    "self_harm",            # 자해
    "illegal",              # 불법 행위
    "pii_exposure",         # 개인정보 노출
)

KOREAN_NAMES = MappingProxyType({
    "profanity_insult": "욕설/모욕",
    "hate_discrimination": "혐오·차별",
    "sexual": "성적 표현",
    "violence_threat": "폭력·위협",
    "self_harm": "자해",
    "illegal": "불법 행위",
    "pii_exposure": "개인정보 노출",
})

# OpenAI's moderation keys (omni-moderation), in the order its API reference lists them.
OPENAI_KEYS: tuple[str, ...] = (
    "harassment", "harassment/threatening", "hate", "hate/threatening", "illicit", "illicit/violent",
    "self-harm", "self-harm/intent", "self-harm/instructions", "sexual", "sexual/minors", "violence",
    "violence/graphic",
)

# The OpenAI key each category always sets. pii_exposure has no OpenAI counterpart: it shows only in
# the `jaju` extension and does not make `flagged` true (OpenAI clients read `flagged` as "harmful").
PRIMARY = MappingProxyType({
    "profanity_insult": "harassment",
    "hate_discrimination": "hate",
    "sexual": "sexual",
    "violence_threat": "violence",
    "self_harm": "self-harm",
    "illegal": "illicit",
})

# Sub-keys a matched term can add (a lexicon entry names them with `sub:`), and the category they refine.
SUB_KEYS = MappingProxyType({
    "harassment/threatening": "violence_threat",
    "hate/threatening": "hate_discrimination",
    "illicit/violent": "illegal",
    "self-harm/intent": "self_harm",
    "self-harm/instructions": "self_harm",
    "sexual/minors": "sexual",
})

# Policy actions, laxest first: the merge keeps the strictest (block > flag > allow).
ACTIONS: tuple[str, ...] = ("allow", "flag", "block")
STAGES: tuple[str, ...] = ("input", "output")
DEFAULT_ACTION = "flag"  # a detected category no pack rules on is reported, never blocked


def stricter(a: str, b: str) -> bool:
    """True when action `a` is stricter than `b`."""
    return ACTIONS.index(a) > ACTIONS.index(b)


def openai_view(scores: dict[str, float], subs: dict[str, float], threshold: float) -> tuple[dict, dict]:
    """OpenAI `categories` and `category_scores` from jaju category scores and sub-key scores."""
    out_scores = dict.fromkeys(OPENAI_KEYS, 0.0)
    for cat, key in PRIMARY.items():
        out_scores[key] = max(out_scores[key], scores.get(cat, 0.0))
    for key, score in subs.items():
        # A sub-key never scores above the category it refines.
        out_scores[key] = max(out_scores[key], min(score, scores.get(SUB_KEYS[key], 0.0)))
    # A threat aimed at a group is hate/threatening; violence aimed at a person is harassment/threatening.
    if scores.get("hate_discrimination", 0.0) >= threshold and scores.get("violence_threat", 0.0) >= threshold:
        out_scores["hate/threatening"] = max(out_scores["hate/threatening"],
                                             min(scores["hate_discrimination"], scores["violence_threat"]))
    rounded = {k: round(v, 4) for k, v in out_scores.items()}
    return {k: v >= threshold for k, v in rounded.items()}, rounded
