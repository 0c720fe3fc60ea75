"""SummaryService: a document far longer than the model's context, summarised by map-reduce over chunks.

The document is cut along paragraph and Kiwi sentence boundaries into chunks that fit the model's
context (`jaju.korean.chunks`, tokens counted with the model's own tokenizer); each chunk is
summarised (map), then the summaries, packed the same way, are summarised again (reduce), level after
level until one call holds them all. Every model call is an internal chat generation through
`InferenceService.start_chat`, so each gets what a chat completion gets: the quota, the tenant's law,
PII protection of its input and restoration of its output, moderation and speech level where the
packs ask, residency routing (fail closed), the watermark, usage metering and a durable audit event
(action `korean.summarize.step`). The request itself ends with one more durable event,
`korean.summarize`, and the summary carries the signed label of the call that wrote it.

Any failure fails the whole request, with a message that says how far it got: a summary of part of a
document is never returned as if it were the whole.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from jaju.audit import AuditLog, Event
from jaju.context import RequestContext
from jaju.engine.base import Backend
from jaju.errors import InvalidRequest, ServiceError, TooLarge, UpstreamFailed
from jaju.inference import Generation, InferenceService
from jaju.korean.analyzer import KoreanAnalyzer
from jaju.korean.chunks import Chunk, Count, Piece, pack, pieces
from jaju.lazy import Lazy
from jaju.protocol.chat import ChatCompletionRequest
from jaju.protocol.korean import SummarizeRequest

ACTION, STEP_ACTION = "korean.summarize", "korean.summarize.step"
# The instruction follows the text in the user's turn: in a small check (docs/benchmarks.md, summarisation)
# the default 0.5B model answered more to the point that way than with the instruction as a system message.
MAP_INSTRUCTION = ("위 글을 한국어로 간결하게 요약하세요. 원문을 그대로 옮기지 말고 핵심만 쓰되, 이름, 숫자, "
                   "날짜는 그대로 쓰세요.")
REDUCE_INSTRUCTION = ("위 글은 한 문서를 앞에서부터 차례로 나누어 요약한 것입니다. 이를 하나의 한국어 요약으로 "
                      "간결하게 합치세요. 원문을 그대로 옮기지 말고 핵심만 쓰되, 이름, 숫자, 날짜는 그대로 쓰세요.")
CONCURRENCY = 4  # model calls of one level in flight at once (the engine batches them)
MARGIN = 16  # tokens kept free in each call's context besides the instruction and the reply
MIN_TEXT_TOKENS = 64  # a call that could read less than this is not worth making
T = TypeVar("T")


@dataclass
class Summary:
    """The summary, what it cost, and the signed label and `jaju` object of the call that wrote it."""

    model: str
    text: str
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int
    headers: dict[str, str]
    extension: dict[str, Any]


@dataclass
class _Run:
    """What one summarisation has done so far (for the response, the audit event and error messages)."""

    chunks: int = 0
    planned: int = 0  # model calls known to be needed so far
    calls: int = 0  # model calls finished
    levels: int = 0  # reduce levels
    document_tokens: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    pii: Counter[str] = field(default_factory=Counter)
    final: Generation | None = None

    def done(self, gen: Generation, *, source: bool) -> None:
        self.calls += 1
        self.prompt_tokens += gen.prompt_tokens
        self.completion_tokens += gen.completion_tokens
        session = gen.guard.session
        if source and session is not None:
            self.pii.update(session.detected)  # the document's own PII, counted once (not again in summaries)


@dataclass(frozen=True)
class _Budget:
    count: Count
    tokens: int  # text tokens one call may read
    exact: bool  # counted by the model's tokenizer (else estimated: one token per character)
    most: int  # the largest max_tokens that leaves room for three partial summaries in one call


class SummaryService:
    def __init__(self, inference: InferenceService, korean: Lazy[KoreanAnalyzer], audit: AuditLog,
                 default_model: str, max_chars: int):
        self.inference = inference
        self._korean = korean
        self.audit = audit
        self.default_model = default_model
        self.max_chars = max_chars

    async def summarize(self, ctx: RequestContext, req: SummarizeRequest) -> Summary:
        model = req.model or self.default_model
        run = _Run()
        try:
            self._check_size(req.texts)
            budget = await self._budget(ctx, model, req)
            chunks = await self._chunks(req, budget)
            run.chunks, run.planned = len(chunks), len(chunks)
            run.document_tokens = sum(c.tokens for c in chunks)
            final = await self._map_reduce(ctx, model, req, budget, chunks, run)
        except ServiceError as e:
            await self._record(ctx, model, req, run, e.status)
            raise _whole(e, run) from None
        except asyncio.CancelledError:
            await self._record_quietly(ctx, model, req, run, "client_disconnected")
            raise
        await self._record(ctx, model, req, run, 200)
        out = final.outcome(0)
        ext = final.response_extension()
        ext.pop("pii", None)
        if run.pii:
            ext["pii"] = dict(run.pii)
        ext.update(chunks=run.chunks, model_calls=run.calls, reduce_levels=run.levels,
                   document_tokens=run.document_tokens, token_count="exact" if budget.exact else "estimated")
        return Summary(model, out.text, out.finish, run.prompt_tokens, run.completion_tokens, final.label.headers(),
                       ext)

    # --- planning ----------------------------------------------------------------------------
    def _check_size(self, texts: list[str]) -> None:
        total = sum(len(t) for t in texts)
        if total > self.max_chars:
            raise TooLarge(f"The document has {total:,} characters; this deployment summarises at most "
                           f"{self.max_chars:,} per request ([limits] max_document_chars). Send it in parts.",
                           "text_too_long", "input")

    async def _budget(self, ctx: RequestContext, model: str, req: SummarizeRequest) -> _Budget:
        """How many tokens of text one call may read: the model's context less instruction, reply and margin.

        The context is the smallest among the backends this tenant may use (residency first: none is a
        503 before any work). Tokens are counted by an embedded engine serving the model, in this process,
        so no text leaves it just to be measured; a model served only remotely is estimated instead.
        """
        backends = await self.inference.serving(model)
        allowed = self.inference.router.pick(model, ctx.tenant_id, key_id=ctx.key_id)
        limits = [n for b in allowed if (n := _context_length(b, model))]
        if not limits:
            raise InvalidRequest("Summarising needs to know the model's context length, and no backend serving "
                                 "it here says it.", "context_length_unknown", "model")
        context = min(limits)
        local = next((b for b in backends if b.name.startswith("embedded:")), None)
        if local is not None:
            async def count(text: str) -> int:
                return await local.count_tokens(model, text=text)

            async def count_messages(messages: list[dict[str, Any]]) -> int:
                return await local.count_tokens(model, messages=messages)
        else:
            async def count(text: str) -> int:
                return len(text)

            async def count_messages(messages: list[dict[str, Any]]) -> int:
                return sum(len(m["content"]) + 4 for m in messages)

        overhead = max([await count_messages(_messages(_instruction(i, req.instructions), ""))
                        for i in (MAP_INSTRUCTION, REDUCE_INSTRUCTION)])
        tokens = context - overhead - req.max_tokens - MARGIN
        most = max(0, (context - overhead - MARGIN) // 4)
        if tokens < MIN_TEXT_TOKENS:
            raise InvalidRequest(f"max_tokens {req.max_tokens} leaves too little of {model}'s {context}-token "
                                 f"context for the text; use at most {most}.", "max_tokens_too_large", "max_tokens")
        return _Budget(count, tokens, local is not None, most)

    async def _chunks(self, req: SummarizeRequest, budget: _Budget) -> list[Chunk]:
        analyzer = self._korean.get()

        def sentences(text: str) -> list[str]:
            return [s for _, _, s in analyzer.sentences(text)]

        if not req.split:  # CLOVA's autoSentenceSplitter false: each text as it is, one chunk each
            chunks = []
            for i, text in enumerate(req.texts):
                n = await budget.count(text.strip())
                if n > budget.tokens:
                    where = "input" if isinstance(req.input, str) else f"input[{i}]"
                    raise InvalidRequest(f"{where} has {n} tokens; with split false each text must fit in one "
                                         f"call ({budget.tokens} tokens here). Send split true or shorter texts.",
                                         "text_too_long_for_context", where)
                chunks.append(Chunk(text.strip(), n))
            return chunks
        items: list[Piece] = []
        for text in req.texts:
            items += await pieces(text, budget.count, sentences, budget.tokens, req.chunk_max_chars)
        return pack(items, budget.tokens, req.chunk_max_chars, req.chunk_min_chars)

    # --- the model calls ---------------------------------------------------------------------
    async def _map_reduce(self, ctx: RequestContext, model: str, req: SummarizeRequest, budget: _Budget,
                          chunks: list[Chunk], run: _Run) -> Generation:
        def call(instruction: str, text: str, source: bool) -> Callable[[], Awaitable[Generation]]:
            return lambda: self._step(ctx, model, req, _instruction(instruction, req.instructions), text, run, source)

        if len(chunks) == 1:
            return await call(MAP_INSTRUCTION, chunks[0].text, True)()
        # Each reduce call must hold at least three partial summaries, or the levels would not shrink.
        if budget.tokens < 3 * req.max_tokens:
            raise InvalidRequest(f"The document needs {len(chunks)} calls, and with max_tokens {req.max_tokens} "
                                 "their summaries cannot be combined in the model's context; use at most "
                                 f"{budget.most}.", "max_tokens_too_large", "max_tokens")
        summaries = await _in_order([call(MAP_INSTRUCTION, c.text, True) for c in chunks])
        while True:
            items = []
            for n, gen in enumerate(summaries, 1):
                text = gen.outcome(0).text.strip()
                if not text:
                    raise UpstreamFailed(f"The model wrote nothing for part {n} of {len(summaries)}; a summary "
                                         "that leaves a part out is not returned.", "empty_summary")
                items.append(Piece(text, await budget.count(text), "\n\n"))
            groups = pack(items, budget.tokens)
            run.levels += 1
            run.planned += len(groups)
            if len(groups) == 1:
                return await call(REDUCE_INSTRUCTION, groups[0].text, False)()
            if len(groups) >= len(items):
                raise UpstreamFailed("The partial summaries do not get shorter than the model's context allows; "
                                     "lower max_tokens.", "summary_not_converging")
            summaries = await _in_order([call(REDUCE_INSTRUCTION, g.text, False) for g in groups])

    async def _step(self, ctx: RequestContext, model: str, req: SummarizeRequest, instruction: str, text: str,
                    run: _Run, source: bool) -> Generation:
        """One internal chat generation on the chat path, metered and durably audited as a step."""
        chat = ChatCompletionRequest(model=model, messages=_messages(instruction, text), max_tokens=req.max_tokens,
                                     temperature=req.temperature)
        gen = await self.inference.start_chat(ctx, chat, STEP_ACTION)  # a failure here is audited already
        try:
            await self.inference.collect(gen)
        except asyncio.CancelledError:
            await self.inference.finish(gen, "cancelled")
            raise
        await self.inference.finish(gen, 200)
        run.done(gen, source=source)
        run.final = gen
        return gen

    # --- the request's own audit event -------------------------------------------------------
    async def _record(self, ctx: RequestContext, model: str, req: SummarizeRequest, run: _Run,
                      status: int | str) -> None:
        """Durable and signed before the response is released (503 if the audit store cannot take it)."""
        fields: dict[str, Any] = {
            "request_id": ctx.request_id, "latency_ms": ctx.elapsed_ms(), "model": model,
            "input_hmac": self.audit.hmac(ctx.tenant_id, "\n\n".join(req.texts)),
            "packs": list(ctx.law.policy.packs), "chunks": run.chunks, "model_calls": run.calls,
            "reduce_levels": run.levels, "prompt_tokens": run.prompt_tokens,
            "completion_tokens": run.completion_tokens}
        if ctx.span.trace_id:
            fields["trace_id"] = ctx.span.trace_id
        if run.pii:
            fields["pii"] = dict(run.pii)  # entity types and counts, never values
        if status == 200 and run.final is not None:
            gen = run.final
            fields.update(output_hmac=self.audit.hmac(ctx.tenant_id, gen.outcome(0).text), backend=gen.backend.name,
                          jurisdiction=gen.backend.jurisdiction, weights_sha256=gen.info.sha256)
        with ctx.span.child("audit"):
            await self.audit.record(Event(action=ACTION, tenant_id=ctx.tenant_id, key_id=ctx.key_id, status=status,
                                          fields=fields))

    async def _record_quietly(self, ctx: RequestContext, model: str, req: SummarizeRequest, run: _Run,
                              status: str) -> None:
        try:
            await self._record(ctx, model, req, run, status)
        except ServiceError:
            pass  # the client has gone; the steps' own events already say what ran


def _messages(instruction: str, text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": f"{text}\n\n{instruction}"}]


def _instruction(base: str, extra: str | None) -> str:
    return base if not extra else f"{base}\n{extra.strip()}"


def _context_length(backend: Backend, model: str) -> int | None:
    return next((m.context_length for m in backend.models() if m.id == model), None)


def _whole(e: ServiceError, run: _Run) -> ServiceError:
    """The error as the client sees it: once model calls have begun, it says how far the work got."""
    if run.planned == 0:
        return e
    message = (f"Summarising stopped with {run.calls} of {max(run.planned, run.calls + 1)} model calls done, so "
               f"no summary is returned: {e.message}")
    out = type(e).__new__(type(e))  # same class, status, type, code and param; only the message grows
    out.__dict__.update(e.__dict__)
    out.message, out.args = message, (message,)
    return out


async def _in_order(calls: list[Callable[[], Awaitable[T]]]) -> list[T]:
    """Run the calls at most CONCURRENCY at a time; results in order. The first failure cancels the rest."""
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(call: Callable[[], Awaitable[T]]) -> T:
        async with gate:
            return await call()

    tasks = [asyncio.create_task(one(c)) for c in calls]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
