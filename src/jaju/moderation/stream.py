"""Streamed output checked as it goes: release text as soon as no term can still be forming in it.

Like privacy's StreamGuard: `feed(chunk)` returns what may be sent now, `flush()` the rest. Only the
trailing word is held back (시 + 발점 and 시 + 발 are told apart only once the word ends), plus any
words before it that could still be the start of a listed phrase (죽여 + 버린다) or, with the intent
rules on, a clause whose ending decides it (때려 + 버릴 + 거야): from a rule word to the end of its
sentence, at most MAX_HOLD characters. Each release is checked together with the last released
characters, so a term split across chunks is still seen. Once the policy blocks, nothing more is released.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from jaju.moderation.categories import CATEGORIES, stricter
from jaju.moderation.intent import rule_word
from jaju.moderation.normalize import skeleton_of, views

if TYPE_CHECKING:
    from jaju.moderation.service import ModerationPolicy, ModerationService


@dataclass(frozen=True, slots=True)
class StreamVerdict:
    """What to send now, and the policy's verdict so far ("allow", "flag" or "block")."""

    text: str
    action: str
    categories: tuple[str, ...] = ()  # categories flagged or blocked so far; never the words

    @property
    def blocked(self) -> bool:
        return self.action == "block"


class ModerationStream:
    CONTEXT = 32    # released characters re-checked with each new piece
    MAX_HOLD = 40   # never hold more than this, so a stream cannot stall

    def __init__(self, service: ModerationService, policy: ModerationPolicy | None, stage: str = "output"):
        self.service = service
        self.policy = policy
        self.stage = stage
        self._pending = ""
        self._context = ""
        self._action = "allow"
        self._categories: set[str] = set()
        self._prefixes = service.term_prefixes

    def feed(self, text: str) -> StreamVerdict:
        if self._action == "block":
            return self._verdict("")
        buf = self._pending + text
        cut = self._hold_from(buf)
        ready, self._pending = buf[:cut], buf[cut:]
        return self._release(ready)

    def flush(self) -> StreamVerdict:
        if self._action == "block":
            return self._verdict("")
        rest, self._pending = self._pending, ""
        return self._release(rest)

    def _release(self, ready: str) -> StreamVerdict:
        if not ready.strip():
            self._context = (self._context + ready)[-self.CONTEXT:]
            return self._verdict(ready)
        result = self.service.check_one(self._context + ready)
        action = self.service.policy_action(self.policy, self.stage, result)
        if action != "allow":
            self._categories.update(result.detected, result.quoted)
        if stricter(action, self._action):
            self._action = action
        if self._action == "block":
            self._pending = ""
            return self._verdict("")
        self._context = (self._context + ready)[-self.CONTEXT:]
        return self._verdict(ready)

    def _verdict(self, text: str) -> StreamVerdict:
        return StreamVerdict(text, self._action, tuple(c for c in CATEGORIES if c in self._categories))

    def _hold_from(self, buf: str) -> int:
        """Where the held-back tail starts: the last word, or earlier if a phrase may be forming."""
        if not buf:
            return 0
        starts = [i for i in range(max(0, len(buf) - self.MAX_HOLD), len(buf))
                  if i == 0 or (buf[i - 1].isspace() and not buf[i].isspace())]
        end_word = len(buf) if buf[-1].isspace() else (starts[-1] if starts else len(buf))
        for p in starts:
            if p >= end_word:
                break
            if self._could_grow(buf[p:]) or self._clause_open(buf[p:]):
                return p
        return end_word

    def _clause_open(self, tail: str) -> bool:
        """The tail starts with a rule word and its sentence has not ended: its ending may still decide."""
        if not self.service.classifier.intents:
            return False
        first = tail.split(maxsplit=1)[0] if tail.strip() else ""
        return bool(first) and rule_word(first) and not any(c in ".!?\n" for c in tail)

    def _could_grow(self, tail: str) -> bool:
        key = skeleton_of(views(tail)[0]).key
        return bool(key) and key in self._prefixes

