"""PrivacyService: the one object the chat path, the API and the CLI call for PII work."""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any

from sqlalchemy.exc import IntegrityError

from jaju.privacy.analyzer import Analyzer
from jaju.privacy.hashing import TenantHasher
from jaju.privacy.operators import OperatorContext, apply, blocked_error, replace_spans
from jaju.privacy.policy import PrivacyPolicy
from jaju.privacy.recent import RecentAnalyses
from jaju.privacy.recognizer import RecognizerResult
from jaju.privacy.restore import restore_arguments, restore_stream
from jaju.privacy.session import Session, canonical
from jaju.privacy.vault import PseudonymVault

# Two requests of one conversation racing for the next placeholder number: reload and redo.
_SAVE_ATTEMPTS = 3


class PrivacyService:
    """Detects PII, applies a tenant's policy, keeps pseudonyms in the vault and restores them."""

    def __init__(self, analyzer: Analyzer, vault: PseudonymVault, hasher: TenantHasher,
                 recent: RecentAnalyses | None = None):
        self.analyzer = analyzer
        self.vault = vault
        self.hasher = hasher
        # Messages a chat resends with every turn are analysed once (privacy/recent.py: digests, no text).
        self.recent = recent if recent is not None else RecentAnalyses()

    # ------------------------------------------------------------------ Presidio-like
    def analyze(self, text: str, language: str = "ko", entities: Iterable[str] | None = None,
                score_threshold: float | None = None) -> list[RecognizerResult]:
        return self.analyzer.analyze(text, language, entities, score_threshold)

    def anonymize(self, text: str, operators: Mapping[str, Mapping[str, Any]] | None = None, *,
                  tenant_id: str = "", analyzer_results: list[RecognizerResult] | None = None,
                  language: str = "ko") -> tuple[str, list[dict]]:
        """Apply operators per entity type ("DEFAULT" for the rest; redact if absent) to the text."""
        operators = operators or {}
        results = analyzer_results if analyzer_results is not None else self.analyze(text, language)
        ctx = OperatorContext(tenant_id, self.hasher, Session(tenant_id, ""))
        default = operators.get("DEFAULT", {"type": "redact"})

        used: list[str] = []

        def replacement(r: RecognizerResult, value: str) -> str:
            op = operators.get(r.entity_type, default)
            used.append(op.get("type", "redact"))
            return apply(used[-1], r.entity_type, value, ctx, op)

        out, items = replace_spans(text, results, replacement)
        for item, op_name in zip(items, used, strict=True):
            item["operator"] = op_name
        return out, items

    # ------------------------------------------------------------------ chat path
    def protect(self, tenant_id: str, messages: list[dict[str, Any]], policy: PrivacyPolicy,
                conversation_key: str | None = None, *, subject: str | None = None,
                purpose: str = "model_input", session: Session | None = None) -> tuple[list[dict[str, Any]], Session]:
        """Messages with PII handled for `purpose`; raises ApiError 422 when the policy blocks an entity."""
        for attempt in range(_SAVE_ATTEMPTS):
            current = session or self.vault.open(tenant_id, conversation_key, subject)
            blocked: set[str] = set()
            out = [self._message(m, current, policy, purpose, blocked) for m in messages]
            if blocked:
                raise blocked_error(blocked)
            try:
                self.vault.save(current)
            except IntegrityError:
                if session is not None or attempt == _SAVE_ATTEMPTS - 1:
                    raise
                continue
            return out, current
        raise AssertionError("unreachable")

    def protect_text(self, session: Session, text: str, policy: PrivacyPolicy, purpose: str = "logs") -> str:
        """One string handled for a purpose with an existing session (logs, stored replies)."""
        blocked: set[str] = set()
        out = self._text(text, session, policy, purpose, blocked)
        if blocked:
            raise blocked_error(blocked)
        self.vault.save(session)
        return out

    def restore(self, session: Session, text: str) -> str:
        """Reply text (or tool-call arguments) with every token the model wrote, in any form, put back.

        JSON (tool-call arguments, a JSON reply) gets the original values JSON-escaped, so it stays valid.
        """
        if text[:1] in "{[" or text.lstrip()[:1] in "{[":
            return restore_arguments(session, text)
        return session.restore(text)

    def restore_stream(self, session: Session, chunks: AsyncIterator[str]) -> AsyncIterator[str]:
        return restore_stream(session, chunks)

    def scan_output(self, session: Session, text: str, policy: PrivacyPolicy) -> str:
        """Model output with PII the tenant did not send handled by the policy's `output` action.

        Run it on the model's text before `restore` (placeholders are not PII). "pseudonymize" acts
        as "redact" here, since nobody holds that value to restore; "block" raises ApiError 422.
        """
        acting = policy.acting_on("output")
        if acting is not None and not acting:
            return text
        # Only the recognizers whose finding would change the text: with the default rules that skips the
        # name recognizer (names in output are allowed), the costliest, which ran for every streamed token.
        results = self.analyzer.analyze(text, entities=acting, score_threshold=policy.score_threshold)
        ctx = OperatorContext(session.tenant_id, self.hasher, session)
        blocked: set[str] = set()

        def replacement(r: RecognizerResult, value: str) -> str:
            if self._digest(session.tenant_id, r.entity_type, value) in session.sent or self._is_token(session, r, value):
                return value
            action = policy.action(r.entity_type, "output")
            if action == "block":
                blocked.add(r.entity_type)
                return value
            return apply("redact" if action == "pseudonymize" else action, r.entity_type, value, ctx)

        out, _ = replace_spans(text, results, replacement)
        if blocked:
            raise blocked_error(blocked)
        return out

    # ------------------------------------------------------------------ internals
    @staticmethod
    def _is_token(session: Session, r: RecognizerResult, value: str) -> bool:
        """A surrogate this session gave out (the model may have reformatted it): restored, not scanned."""
        if session.is_token(value):
            return True
        key = canonical(r.entity_type, value)
        return any(session.entities.get(t) == r.entity_type and canonical(r.entity_type, t) == key
                   for t in session.values)

    def _digest(self, tenant_id: str, entity: str, value: str) -> str:
        return self.hasher.hexdigest(tenant_id, f"{entity}\x00{canonical(entity, value)}", "vault")

    def _text(self, text: str, session: Session, policy: PrivacyPolicy, purpose: str, blocked: set[str]) -> str:
        if not text:
            return text
        threshold = policy.score_threshold
        results = self.recent.analyze(session.tenant_id, text, threshold,
                                      lambda: self.analyzer.analyze(text, score_threshold=threshold))
        if not results:
            return text
        # A surrogate is never a value of this text, nor any word in it (the whole text is in the list).
        real = frozenset([text, *(text[r.start:r.end] for r in results)])
        ctx = OperatorContext(session.tenant_id, self.hasher, session, real)

        def replacement(r: RecognizerResult, value: str) -> str:
            session.sent.add(self._digest(session.tenant_id, r.entity_type, value))
            session.detected[r.entity_type] += 1
            action = policy.action(r.entity_type, purpose)
            if action == "block":
                blocked.add(r.entity_type)
                return value
            return apply(action, r.entity_type, value, ctx)

        out, _ = replace_spans(text, results, replacement)
        return out

    def _message(self, message: dict[str, Any], session: Session, policy: PrivacyPolicy, purpose: str,
                 blocked: set[str]) -> dict[str, Any]:
        """One OpenAI message: string content, list-of-parts content, tool call arguments."""
        m = copy.copy(message)
        content = m.get("content")
        if isinstance(content, str):
            m["content"] = self._text(content, session, policy, purpose, blocked)
        elif isinstance(content, list):
            parts = []
            for part in content:
                if isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str):
                    part = {**part, "text": self._text(part["text"], session, policy, purpose, blocked)}
                parts.append(part)
            m["content"] = parts
        if isinstance(m.get("tool_calls"), list):
            m["tool_calls"] = [self._tool_call(tc, session, policy, purpose, blocked) for tc in m["tool_calls"]]
        return m

    def _tool_call(self, call: Any, session: Session, policy: PrivacyPolicy, purpose: str,
                   blocked: set[str]) -> Any:
        fn = call.get("function") if isinstance(call, dict) else None
        if not isinstance(fn, dict) or not isinstance(fn.get("arguments"), str):
            return call
        args = fn["arguments"]
        try:
            parsed = json.loads(args)
        except json.JSONDecodeError:
            new_args = self._text(args, session, policy, purpose, blocked)
        else:
            new_args = json.dumps(self._walk(parsed, session, policy, purpose, blocked), ensure_ascii=False)
        return {**call, "function": {**fn, "arguments": new_args}}

    def _walk(self, value: Any, session: Session, policy: PrivacyPolicy, purpose: str, blocked: set[str]) -> Any:
        if isinstance(value, str):
            return self._text(value, session, policy, purpose, blocked)
        if isinstance(value, list):
            return [self._walk(v, session, policy, purpose, blocked) for v in value]
        if isinstance(value, dict):
            return {k: self._walk(v, session, policy, purpose, blocked) for k, v in value.items()}
        return value
