"""SegmentService: `jaju.korean.segment` served to tenants, with no generation.

Kiwi splits the sentences; the e5 backend embeds them where the residency router allows this tenant's
text to be processed (fail closed: 503 when nowhere); TextTiling picks the breaks. The tenant's quota is
checked first, the e5 tokens are metered, and every call leaves a durable audit event
(`korean.segment`) with counts and a keyed digest of the text, never the text. As with /v1/embeddings,
the text reaches only the embedding model and nothing is generated, so there is nothing to pseudonymise
and restore.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import numpy as np

from jaju.audit import AuditLog, Event
from jaju.context import RequestContext
from jaju.engine.catalog import EMBEDDING_MODEL
from jaju.errors import InvalidRequest, ServiceError, TooLarge
from jaju.inference import InferenceService
from jaju.korean.analyzer import KoreanAnalyzer
from jaju.korean.segment import boundaries, groups, regroup, spans
from jaju.lazy import Lazy
from jaju.protocol.common import named_model
from jaju.protocol.korean import SegmentRequest
from jaju.tenancy.usage import UsageMeter

ACTION = "korean.segment"


@dataclass
class Segmentation:
    model: str
    paragraphs: list[tuple[int, int, str, int]]  # (start, end, text, sentences)
    tokens: int
    extension: dict[str, Any]


class SegmentService:
    def __init__(self, inference: InferenceService, korean: Lazy[KoreanAnalyzer], audit: AuditLog, usage: UsageMeter,
                 max_chars: int):
        self.inference = inference
        self._korean = korean
        self.audit = audit
        self.usage = usage
        self.max_chars = max_chars

    async def segment(self, ctx: RequestContext, req: SegmentRequest) -> Segmentation:
        fields: dict[str, Any] = {"request_id": ctx.request_id, "model": EMBEDDING_MODEL,
                                  "input_hmac": self.audit.hmac(ctx.tenant_id, req.input)}
        try:
            result = await self._segment(ctx, req, fields)
        except ServiceError as e:
            await self._record(ctx, fields, e.status)
            raise
        self.usage.record(ctx.tenant_id, ctx.key_id, EMBEDDING_MODEL, result.tokens, 0)
        await self._record(ctx, fields, 200)
        return result

    async def _segment(self, ctx: RequestContext, req: SegmentRequest, fields: dict[str, Any]) -> Segmentation:
        if req.model is not None and req.model != EMBEDDING_MODEL:
            raise InvalidRequest(f"{named_model(req.model)} does not segment text; segmentation uses "
                                 f"'{EMBEDDING_MODEL}' (or leave model out).", "model_not_embedding", "model")
        if len(req.input) > self.max_chars:
            raise TooLarge(f"The text has {len(req.input):,} characters; this deployment segments at most "
                           f"{self.max_chars:,} per request ([limits] max_document_chars). Send it in parts.",
                           "text_too_long", "input")
        backend, info = await self.inference.embedding_backend(ctx, EMBEDDING_MODEL)
        fields.update(backend=backend.name, jurisdiction=backend.jurisdiction, weights_sha256=info.sha256)
        sents = await asyncio.to_thread(self._korean.get().sentences, req.input)
        tokens = 0
        cuts: list[int] = []
        if len(sents) >= 2:
            with ctx.span.child("engine.embed"):
                result = await backend.embed(EMBEDDING_MODEL, [s for _, _, s in sents], "passage")
            tokens = result.prompt_tokens
            vectors = np.asarray(result.vectors, dtype=np.float64)
            cuts = boundaries(vectors, window=req.window, min_sentences=req.min_sentences, count=req.count,
                              spread=0.5 + req.alpha)
        parts = groups(len(sents), cuts)
        if req.post_process and parts:
            parts = regroup(parts, sents, req.post_process_max_chars, req.post_process_min_chars)
        paragraphs = spans(req.input, sents, parts) if parts else [_whole(req.input)]
        fields.update(sentences=len(sents), paragraphs=len(paragraphs), prompt_tokens=tokens)
        ext = {"backend": backend.name, "jurisdiction": backend.jurisdiction, "sentences": len(sents)}
        return Segmentation(EMBEDDING_MODEL, paragraphs, tokens, ext)

    async def _record(self, ctx: RequestContext, fields: dict[str, Any], status: int | str) -> None:
        """Durable and signed before the response is released (503 if the audit store cannot take it)."""
        fields["latency_ms"] = ctx.elapsed_ms()
        if ctx.span.trace_id:
            fields["trace_id"] = ctx.span.trace_id
        with ctx.span.child("audit"):
            await self.audit.record(Event(action=ACTION, tenant_id=ctx.tenant_id, key_id=ctx.key_id, status=status,
                                          fields=fields))


def _whole(text: str) -> tuple[int, int, str, int]:
    """A text Kiwi finds no sentence in: one paragraph, whitespace at either end left out."""
    lead = len(text) - len(text.lstrip())
    body = text.strip()
    return lead, lead + len(body), body, 0
