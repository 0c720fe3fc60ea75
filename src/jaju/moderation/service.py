"""ModerationService: Korean moderation for `/v1/moderations` and for the chat path's input and output."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import Protocol

from jaju.compliance.entities import ENTITIES
from jaju.errors import ApiError
from jaju.korean.analyzer import KoreanAnalyzer
from jaju.moderation.categories import ACTIONS, CATEGORIES, DEFAULT_ACTION, KOREAN_NAMES, STAGES, stricter
from jaju.moderation.classifier import THRESHOLD, LexiconClassifier
from jaju.moderation.lexicon import Lexicon, load_lexicon
from jaju.moderation.result import ModerationResult
from jaju.moderation.stream import ModerationStream
from jaju.moderation.wordlists import with_wordlists

MODEL = "jaju-moderation-ko"
# Other projects' lists, matched literally after our normalisation; chosen on the dev set (they added no
# false positive there), before the held-out set was scored.
DEFAULT_WORDLISTS = ("nerv", "korcen")
# A name alone is not an exposure; identifiers and contact details are. Asking the analyzer for these
# only also skips its name recognizer, the slow part (Kiwi per text): ~700x faster on short texts.
EXPOSURE_ENTITIES = tuple(e for e in ENTITIES if e != "PERSON")


class PiiAnalyzer(Protocol):
    """What moderation needs from privacy: PrivacyService or its Analyzer both fit."""

    def analyze(self, text: str, language: str = "ko", entities=None) -> list: ...


class ModerationPolicy(Protocol):
    """What moderation needs from a tenant's policy: compliance's merged `Policy` fits."""

    def moderation_action(self, category: str, stage: str) -> str: ...


class ModerationService:
    """Classifies texts into jaju's Korean categories (mapped onto OpenAI's) and applies tenant policy.

    Build once per process: `korean` is the shared Kiwi, `pii` the privacy analyzer. Thread-safe for
    concurrent `check` calls (Kiwi calls are serialised by KoreanAnalyzer).
    """

    def __init__(self, korean: KoreanAnalyzer, pii: PiiAnalyzer, lexicon: Lexicon | None = None,
                 wordlists: tuple[str, ...] = DEFAULT_WORDLISTS, threshold: float = THRESHOLD, model: str = MODEL,
                 intents: bool = True):
        # `lexicon` replaces jaju's own list (lexicon/ko.yaml); `wordlists` are added to it either way.
        # `intents` adds the Kiwi clause rules (intent.py); off, only listed phrasings are found.
        self.lexicon = with_wordlists(lexicon if lexicon is not None else load_lexicon(), wordlists)
        self.classifier = LexiconClassifier(self.lexicon, korean, intents=intents)
        self.pii = pii
        self.threshold = threshold
        self.model = model

    @cached_property
    def term_prefixes(self) -> frozenset[str]:
        """Every proper prefix of every term's key: text ending in one may still grow into a term."""
        return frozenset(t.key[:i] for t in self.lexicon.terms for i in range(2, len(t.key)))

    def check(self, texts: str | Sequence[str]) -> list[ModerationResult]:
        """One result per text, in order."""
        if isinstance(texts, str):
            texts = [texts]
        return [self.check_one(t) for t in texts]

    def check_one(self, text: str) -> ModerationResult:
        det = self.classifier.detect(text)
        exposure = max((r.score for r in self.pii.analyze(text, "ko", EXPOSURE_ENTITIES)), default=0.0)
        if exposure:
            det.scores["pii_exposure"] = max(det.scores.get("pii_exposure", 0.0), exposure)
        return ModerationResult.build(det.scores, det.subs, det.quoted, self.threshold)

    def policy_action(self, policy: ModerationPolicy | None, stage: str, result: ModerationResult) -> str:
        """"allow", "flag" or "block" for one result at one stage ("input" or "output").

        The strictest action of the detected categories wins. A category that is only quoted or
        reported (a user reporting abuse) can be flagged but never blocks.
        """
        if stage not in STAGES:
            raise ValueError(f"stage must be one of {', '.join(STAGES)}")
        action = "allow"
        for category in result.detected:
            rule = policy.moderation_action(category, stage) if policy is not None else DEFAULT_ACTION
            action = rule if stricter(rule, action) else action
        for category in result.quoted:
            rule = policy.moderation_action(category, stage) if policy is not None else DEFAULT_ACTION
            rule = min(rule, "flag", key=ACTIONS.index)
            action = rule if stricter(rule, action) else action
        return action

    def blocking(self, policy: ModerationPolicy | None, stage: str, result: ModerationResult) -> tuple[str, ...]:
        """The categories that make `policy_action` block (empty when it does not)."""
        if self.policy_action(policy, stage, result) != "block":
            return ()
        return tuple(c for c in result.detected
                     if (policy.moderation_action(c, stage) if policy is not None else DEFAULT_ACTION) == "block")

    def enforce(self, policy: ModerationPolicy | None, stage: str, texts: str | Sequence[str]
                ) -> tuple[str, list[ModerationResult]]:
        """Check texts and apply policy: raises the 422 `blocked_error` on block, else returns (action, results)."""
        results = self.check(texts)
        action = "allow"
        blocked: list[str] = []
        for r in results:
            a = self.policy_action(policy, stage, r)
            action = a if stricter(a, action) else action
            blocked.extend(c for c in self.blocking(policy, stage, r) if c not in blocked)
        if blocked:
            raise blocked_error(stage, blocked)
        return action, results

    def stream(self, policy: ModerationPolicy | None, stage: str = "output") -> ModerationStream:
        """A checker for streamed text: `feed(chunk) -> StreamVerdict`, then `flush()`."""
        return ModerationStream(self, policy, stage)


def blocked_error(stage: str, categories: Sequence[str]) -> ApiError:
    """422 naming the categories only; the matched words are never echoed back or logged."""
    names = ", ".join(f"{KOREAN_NAMES[c]} ({c})" for c in CATEGORIES if c in categories)
    what = "The request" if stage == "input" else "The generated reply"
    return ApiError(422, f"{what} was blocked by the tenant's moderation policy: {names}.",
                    "invalid_request_error", "content_blocked", "input" if stage == "input" else None)
