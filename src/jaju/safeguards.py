"""Per-request safeguards around generation: grounding, PII protection and restoration, output scanning.

`Safeguards` is built once; `Safeguards.open(...)` gives a `RequestGuard` holding one request's
state (pseudonym session, retrieved sources). The inference service calls it at fixed points:
`prepare` before the engine, `finish_text`/`stream` on the way out, `extension`/`audit_fields` at the end.
"""

from __future__ import annotations

import asyncio
import functools
import re
from datetime import UTC, datetime
from typing import Any

from jaju.compliance.labelling import Label
from jaju.compliance.runtime import ComplianceService
from jaju.context import RequestContext
from jaju.engine.base import Backend, LogitsHook, ToolCall
from jaju.errors import InvalidRequest, NotFound
from jaju.knowledge.citations import build_grounded_messages, extract_citations
from jaju.knowledge.errors import KnowledgeError, KnowledgeNotFound
from jaju.knowledge.service import KnowledgeService
from jaju.korean import KoreanAnalyzer
from jaju.korean.speech import SpeechLevel
from jaju.lazy import Lazy
from jaju.moderation.service import ModerationService
from jaju.privacy.restore import StreamRestorer
from jaju.privacy.service import PrivacyService
from jaju.privacy.session import Session


class Safeguards:
    """Built once; `open(ctx)` gives the guard that holds one request's safeguard state."""

    def __init__(self, privacy: Lazy[PrivacyService], knowledge: Lazy[KnowledgeService],
                 moderation: Lazy[ModerationService], korean: Lazy[KoreanAnalyzer], compliance: ComplianceService):
        # Lazy, so Kiwi and the vault load on first use rather than at start-up.
        self._privacy = privacy
        self._knowledge = knowledge
        self._moderation = moderation
        self._korean = korean
        self.compliance = compliance

    def open(self, ctx: RequestContext) -> RequestGuard:
        return RequestGuard(self, ctx)


class RequestGuard:
    def __init__(self, owner: Safeguards, ctx: RequestContext):
        self.owner = owner
        self.ctx = ctx
        self.principal = ctx.principal
        self.options = ctx.options
        self.policy = ctx.law.privacy  # PII rules per entity and purpose
        self.law = ctx.law.policy  # the tenant's merged regulation packs
        self.session: Session | None = None
        self.hits: list = []
        self.citations: list[dict] = []
        self.watermarked = False
        self.moderated = _moderated_stages(self.law)
        level = ctx.options.speech_level or ctx.law.settings.get("speech_level")
        self.speech = SpeechLevel(owner._korean.get(), level) if level else None  # 존댓말 control
        self.speech_rewrites = 0
        self.moderation: dict[str, Any] = {}  # stage -> {"action", "categories"}: names only, never text

    # --- labelling (AI Basic Act, AI Act Art. 50) ---------------------------------------------
    def watermark_hook(self) -> LogitsHook | None:
        """The sampling-time watermark, when the packs (or settings) ask for it."""
        return self.owner.compliance.watermark_hook(self.law)

    def ran_on(self, backend: Backend | None, hooked: bool) -> None:
        """Only the embedded engine applies logits hooks; a remote engine's output is not watermarked."""
        self.watermarked = hooked and getattr(backend, "supports_logits_hooks", False)

    def label(self, *, model: str, weights_sha256: str | None, jurisdiction: str, request_id: str) -> Label:
        return self.owner.compliance.label(self.law, model=model, weights_sha256=weights_sha256,
                                           jurisdiction=jurisdiction, request_id=request_id,
                                           created=datetime.now(UTC), watermarked=self.watermarked)

    def provenance(self, label: Label, content: str) -> dict[str, Any]:
        """The label's `jaju` object with a manifest signed over exactly the delivered text."""
        return label.extension(self.owner.compliance.manifest(content, label))

    @property
    def privacy(self) -> PrivacyService:
        return self.owner._privacy.get()

    async def prepare(self, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Moderate the user's turn (where the packs ask), ground in knowledge bases, protect PII."""
        if "input" in self.moderated:
            text = _last_user_text(messages)
            if text:
                action, results = await asyncio.to_thread(self.moderator.enforce, self.law, "input", [text])
                self._moderation_seen("input", action, results[0].detected + results[0].quoted)
        if self.speech is not None:
            messages = self.speech.instruct(messages)
        if self.options.knowledge_bases:
            query = _last_user_text(messages)
            if query:
                self.hits = await asyncio.to_thread(self._search, query)
                messages = build_grounded_messages(messages, self.hits)
        protect = functools.partial(self.privacy.protect, self.principal.tenant_id, messages, self.policy,
                                    self.options.conversation_id, subject=self.options.subject)
        if self.options.conversation_id is None and _chars(messages) <= INLINE_SCAN_CHARS:
            # Without a conversation the vault writes nothing: the scan is a few milliseconds of CPU
            # under the GIL, cheaper on the event loop than a hand-off to a thread and back.
            protected, self.session = protect()
        else:
            protected, self.session = await asyncio.to_thread(protect)
        return protected

    async def prepare_text(self, text: str) -> str:
        messages = await self.prepare([{"role": "user", "content": text}])
        return messages[-1]["content"]

    def _search(self, query: str) -> list:
        try:
            return self.owner._knowledge.get().search(self.principal.tenant_id, list(self.options.knowledge_bases),
                                                  query, top_k=self.options.knowledge_top_k)
        except KnowledgeNotFound as e:
            raise NotFound(str(e), "knowledge_base_not_found", "jaju.knowledge_bases") from None
        except KnowledgeError as e:
            raise InvalidRequest(str(e), param="jaju.knowledge_bases") from None

    def finish_text(self, text: str) -> str:
        """Model text -> what the tenant receives: new PII handled by policy, placeholders restored,
        moderated where the packs ask (a block is a 422 naming the categories)."""
        if self.session is not None:
            text = self.privacy.restore(self.session, self.privacy.scan_output(self.session, text, self.policy))
        if self.speech is not None and text:
            stream = self.speech.stream()
            text = stream.feed(text) + stream.flush()
            self.speech_rewrites += len(stream.rewrites)
        if "output" in self.moderated and text:
            action, results = self.moderator.enforce(self.law, "output", [text])
            self._moderation_seen("output", action, results[0].detected + results[0].quoted)
        return text

    @property
    def moderator(self) -> ModerationService:
        return self.owner._moderation.get()

    def _moderation_seen(self, stage: str, action: str, categories) -> None:
        if action != "allow":
            self.moderation[stage] = {"action": action, "categories": sorted(set(categories))}

    def finish_tool_calls(self, calls: list[ToolCall]) -> list[ToolCall]:
        if self.session is None:
            return calls
        return [ToolCall(c.id, c.name, self.privacy.restore(self.session, c.arguments)) for c in calls]

    def for_storage(self, messages: list[dict[str, Any]], reply: str) -> tuple[list[dict[str, Any]], str]:
        """The conversation as it may be kept: PII handled for the `storage` purpose."""
        stored, session = self.privacy.protect(self.principal.tenant_id, messages, self.policy,
                                               self.options.conversation_id, subject=self.options.subject,
                                               purpose="storage", session=self.session)
        return stored, self.privacy.protect_text(session, reply, self.policy, "storage")

    def stream(self) -> StreamGuard:
        return StreamGuard(self)

    def cite(self, answer: str) -> None:
        if self.hits:
            self.citations = extract_citations(answer, self.hits)

    def extension(self) -> dict[str, Any]:
        ext: dict[str, Any] = {}
        if self.options.knowledge_bases:
            ext["citations"] = self.citations
        if self.session is not None and self.session.detected:
            ext["pii"] = dict(self.session.detected)
        if self.moderation:
            ext["moderation"] = dict(self.moderation)
        if self.speech is not None:
            ext["speech_level"] = {"level": self.speech.level, "rewritten_sentences": self.speech_rewrites}
        return ext

    def audit_fields(self) -> dict[str, Any]:
        fields: dict[str, Any] = {"packs": list(self.law.packs)}
        if self.watermarked:
            fields["watermarked"] = True
        if self.session is not None and self.session.detected:
            fields["pii"] = dict(self.session.detected)  # entity types and counts, never values
        if self.options.knowledge_bases:
            fields["knowledge_bases"] = list(self.options.knowledge_bases)
            fields["sources"] = len(self.hits)
        if self.options.subject:
            fields["subject"] = self.privacy.vault.subject_digest(self.principal.tenant_id, self.options.subject)
        if self.moderation:
            fields["moderation"] = dict(self.moderation)
        return fields


class StreamGuard:
    """Streaming counterpart of `finish_text`: output scanned as it streams, placeholders restored.

    The identifiers a policy masks in output (RRN, card and account numbers, passports...) are runs of
    digits, letters and separators, so only a trailing run that could still grow into one is held back;
    everything before it is scanned (with the last released characters as context, since recognizers
    look for words such as 계좌 or 주민번호 before a number) and released at once.
    """

    CONTEXT = 64
    MAX_HOLD = 48

    def __init__(self, guard: RequestGuard):
        self.guard = guard
        self._pending = ""
        self._context = ""
        self._restorer = StreamRestorer(guard.session) if guard.session is not None else None
        self._scan = guard.session is not None and guard.policy.acting_on("output") != frozenset()
        self._mod = guard.moderator.stream(guard.law, "output") if "output" in guard.moderated else None
        self._speech = guard.speech.stream() if guard.speech is not None else None
        self.blocked = False  # the tenant's moderation policy stopped this reply

    def feed(self, text: str) -> str:
        return self._moderate(self._speak(self._privacy_feed(text), final=False), final=False)

    def flush(self) -> str:
        return self._moderate(self._speak(self._privacy_flush(), final=True), final=True)

    def _speak(self, text: str, *, final: bool) -> str:
        """Whole sentences at the requested speech level (a sentence that slipped is rewritten)."""
        if self._speech is None:
            return text
        out = self._speech.feed(text)
        if final:
            out += self._speech.flush()
            self.guard.speech_rewrites += len(self._speech.rewrites)
        return out

    def _moderate(self, text: str, *, final: bool) -> str:
        if self._mod is None:
            return text
        verdict = self._mod.feed(text)
        if final and not verdict.blocked:
            rest = self._mod.flush()
            verdict = type(verdict)(verdict.text + rest.text, rest.action, rest.categories)
        if verdict.action != "allow":
            self.guard._moderation_seen("output", verdict.action, verdict.categories)
        self.blocked = verdict.blocked
        return verdict.text

    def _privacy_feed(self, text: str) -> str:
        if self._restorer is None:
            return text
        buf = self._pending + text
        if not self._scan:
            self._pending = ""
            return self._restorer.feed(buf)
        hold = _TAIL.search(buf)
        cut = hold.start() if hold and len(buf) - hold.start() <= self.MAX_HOLD else len(buf)
        ready, self._pending = buf[:cut], buf[cut:]
        return self._out(ready)

    def _privacy_flush(self) -> str:
        if self._restorer is None:
            return ""
        rest, self._pending = self._pending, ""
        return self._out(rest) + self._restorer.flush()

    def _out(self, text: str) -> str:
        if not text:
            return ""
        g = self.guard
        if self._scan:
            scanned = g.privacy.scan_output(g.session, self._context + text, g.policy)
            text = scanned[len(self._context):] if scanned.startswith(self._context) else \
                g.privacy.scan_output(g.session, text, g.policy)
            self._context = (self._context + text)[-self.CONTEXT:]
        return self._restorer.feed(text)


# A trailing run that may still grow into an identifier: digits with separators, after at most two
# letters (passports M12345678, IBANs DE89 ...), or a word fragment of up to two letters that may start one.
_D = "0-9\uFF10-\uFF19"
_TAIL = re.compile(rf"(?:(?<![A-Za-z])[A-Za-z]{{1,2}})?[{_D}][{_D}A-Za-z./ -]*$|(?<![A-Za-z])[A-Za-z]{{1,2}}$")


def _moderated_stages(law) -> frozenset[str]:
    """The stages ("input", "output") where the tenant's packs ask the request path to moderate.

    Only categories a pack rules on count, and not `pii_exposure`: personal data in input and output is
    the privacy layer's job (protect before the model, scan and mask on the way out), so a pack that
    only flags exposure costs the request path nothing extra. /v1/moderations always checks everything.
    """
    stages = set()
    for category, rules in law.moderation.items():
        if category == "pii_exposure":
            continue
        stages.update(stage for stage, rule in rules.items() if rule.value != "allow")
    return frozenset(stages)


INLINE_SCAN_CHARS = 4000  # longer prompts are scanned on a worker thread so other requests keep moving


def _chars(messages: list[dict[str, Any]]) -> int:
    total = 0
    for m in messages:
        content = m.get("content")
        if isinstance(content, str):
            total += len(content)
        elif isinstance(content, list):
            total += sum(len(p.get("text", "")) for p in content if isinstance(p, dict))
    return total


def _last_user_text(messages: list[dict[str, Any]]) -> str:
    for m in reversed(messages):
        if m.get("role") == "user":
            content = m.get("content")
            if isinstance(content, list):
                return " ".join(p.get("text", "") for p in content if isinstance(p, dict))
            return content or ""
    return ""
