"""InferenceService: the one place a generation, embedding or token count runs its steps, in order.

Chat and text completions share one path (`_generate`): the tenant's quota, the safeguards (grounding,
PII protection), the residency router, the watermark hook and the label. What differs is only the wire
format, which `protocol/chat.py` and `protocol/completions.py` write from the same `Generation`.
Every request ends with a durable audit record: a response (or the end of a stream) is released only
after its event is committed and signed, and fails with 503 if the audit store cannot take it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from jaju.audit import AuditLog, Event
from jaju.compliance.labelling import Label
from jaju.context import RequestContext
from jaju.conversations.store import MessageStore
from jaju.engine.base import Backend, ChatRequest, CompletionRequest, Delta, ModelInfo, ToolCall
from jaju.engine.registry import ModelRegistry
from jaju.errors import InvalidRequest, QuotaExceeded, ServiceError
from jaju.korean.history import fit_history_async
from jaju.metrics import Metrics
from jaju.protocol import chat as chat_wire
from jaju.protocol import completions as completion_wire
from jaju.protocol.chat import ChatCompletionRequest
from jaju.protocol.common import named_model, now, usage_dict
from jaju.protocol.completions import TextCompletionRequest
from jaju.protocol.embeddings import EmbeddingRequest, embedding_body
from jaju.protocol.logit_bias import check_logit_bias, logit_bias_hook
from jaju.safeguards import RequestGuard, Safeguards, StreamGuard
from jaju.sovereignty.router import ResidencyRouter
from jaju.tenancy.usage import UsageMeter

log = logging.getLogger("jaju.inference")
DEFAULT_REPLY_TOKENS = 512  # room kept for the answer when a sliding history request names no max_tokens
T = TypeVar("T")


@dataclass
class Outcome:
    """What one choice of a generation produced, for the response, the audit trail and the meters."""

    text: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    finish: str = "stop"
    prompt_tokens: int = 0
    completion_tokens: int = 0
    first_token_at: float | None = None
    logprobs: list[Any] | None = None  # per sampled token, when the request asked for them

    def absorb(self, d: Delta) -> None:
        if self.first_token_at is None and (d.text or d.tool_calls or d.finish_reason):
            self.first_token_at = time.perf_counter()
        self.text += d.text
        token_logprobs = getattr(d, "logprobs", None)
        if token_logprobs:
            self.logprobs = (self.logprobs or []) + list(token_logprobs)
        if d.tool_calls:
            self.tool_calls.extend(d.tool_calls)
        if d.finish_reason is not None:
            self.finish = d.finish_reason
        if d.usage is not None:
            self.prompt_tokens, self.completion_tokens = d.usage.prompt_tokens, d.usage.completion_tokens


@dataclass
class Reply:
    """A JSON body or an SSE stream, with the headers that label it."""

    body: dict[str, Any] | None = None
    stream: AsyncIterator[bytes] | None = None
    headers: dict[str, str] = field(default_factory=dict)


def sse(data: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n\n"


SSE_DONE = b"data: [DONE]\n\n"


class Generation:
    """One generation in flight: its safeguards, where it runs, its label, and each choice's outcome."""

    def __init__(self, ctx: RequestContext, action: str, audit_input: str, guard: RequestGuard,
                 stream: AsyncIterator[Delta], first: Delta | None, backend: Backend, info: ModelInfo, label: Label,
                 upstream_api: str | None = None):
        self.ctx = ctx
        self.action = action
        self.audit_input = audit_input
        self.guard = guard
        self.backend = backend
        self.info = info
        self.label = label
        self.upstream_api = upstream_api  # Responses requests: "responses" (passed through) or "chat"
        self.created = now()
        self._stream = stream
        self._first = first
        self.outcomes: dict[int, Outcome] = {}
        self._filters: dict[int, StreamGuard] = {}
        self.finished = False  # metered and audited
        self._stopped: set[int] = set()  # choices the moderation policy ended

    def outcome(self, index: int = 0) -> Outcome:
        return self.outcomes.setdefault(index, Outcome())

    @property
    def prompt_tokens(self) -> int:
        return max((o.prompt_tokens for o in self.outcomes.values()), default=0)

    @property
    def completion_tokens(self) -> int:
        return sum(o.completion_tokens for o in self.outcomes.values())

    async def raw(self) -> AsyncIterator[Delta]:
        """The engine's deltas as they come (closing this cancels the generation)."""
        stream = self._stream
        try:
            if self._first is not None:
                yield self._first
            async for d in stream:
                yield d
        finally:
            await stream.aclose()

    async def collect(self) -> None:
        """Run to the end; then scan each choice's whole text and restore its placeholders."""
        async for d in self.raw():
            self.outcome(_index(d)).absorb(d)
        for out in self.outcomes.values():
            out.text = self.guard.finish_text(out.text)
            out.tool_calls = self.guard.finish_tool_calls(out.tool_calls)
        self.guard.cite(self.outcome(0).text)

    async def deltas(self) -> AsyncIterator[Delta]:
        """Deltas as the tenant may see them: output scanned and placeholders restored as they stream."""
        async for d in self.raw():
            i = _index(d)
            if i in self._stopped:
                continue
            filt = self._filters.get(i)
            if filt is None:
                filt = self._filters[i] = self.guard.stream()
            d.text = filt.feed(d.text)
            if d.finish_reason is not None or filt.blocked:
                d.text += filt.flush() if not filt.blocked else ""
                if d.tool_calls:
                    d.tool_calls = self.guard.finish_tool_calls(d.tool_calls)
            if filt.blocked:
                # The tenant's moderation policy stopped this reply mid-stream: end the choice here
                # (a 422 is no longer possible once the headers are out).
                d.finish_reason, d.tool_calls = "content_filter", None
            self.outcome(i).absorb(d)
            if d.finish_reason is not None and i == 0:
                self.guard.cite(self.outcome(0).text)
            yield d
            if filt.blocked:
                self._stopped.add(i)
                if len(self.outcomes) == 1:
                    return  # closing the engine stream frees its slot at once

    def extension(self, index: int = 0) -> dict[str, Any]:
        """The response's `jaju` object: the signed label over exactly choice `index`'s text, where it ran,
        and what the safeguards did (citations, PII counts)."""
        text = self.outcome(index).text
        with self.ctx.span.child("labelling.manifest"):
            ext = {"backend": self.backend.name, **self.guard.extension(), **self.guard.provenance(self.label, text)}
        if self.upstream_api:
            ext["upstream_api"] = self.upstream_api
        if self.ctx.ignored_params:
            ext["ignored_params"] = list(self.ctx.ignored_params)
        return ext

    def choices(self) -> list[tuple[int, Outcome]]:
        return sorted(self.outcomes.items())

    def response_extension(self) -> dict[str, Any]:
        """The body's `jaju` object: choice 0's signed label; with several choices, each one's manifest."""
        ext = self.extension(0)
        if len(self.outcomes) > 1:
            ext["choices"] = [{"index": i, "provenance": self.extension(i).get("provenance")}
                              for i in sorted(self.outcomes)]
        return ext

    def output_digest_text(self) -> str:
        parts = []
        for i in sorted(self.outcomes):
            o = self.outcomes[i]
            parts.append(o.text + json.dumps([[c.name, c.arguments] for c in o.tool_calls], ensure_ascii=False))
        return "\x1e".join(parts)


class InferenceService:
    def __init__(self, registry: ModelRegistry, router: ResidencyRouter, audit: AuditLog, usage: UsageMeter,
                 metrics: Metrics, safeguards: Safeguards, messages: MessageStore):
        self.registry = registry
        self.router = router
        self.audit = audit
        self.usage = usage
        self.metrics = metrics
        self.safeguards = safeguards
        self.messages = messages

    # --- chat and completions ---------------------------------------------------------------
    async def chat(self, ctx: RequestContext, req: ChatCompletionRequest) -> Reply:
        gen = await self.start_chat(ctx, req, "chat.completions")
        if req.stream:
            return Reply(stream=self._chat_stream(gen, req), headers=gen.label.headers())
        await self._run_to_end(gen)
        if req.store:
            await self._keep(gen, req)
        await self._finish(gen, 200)
        body = chat_wire.completion_body(ctx.request_id, req.model, gen.created, gen.choices(), gen.prompt_tokens,
                                         gen.completion_tokens, gen.response_extension())
        return Reply(body=body, headers=gen.label.headers())

    async def start_chat(self, ctx: RequestContext, req: ChatCompletionRequest, action: str, *,
                         responses: bool = False) -> Generation:
        """Everything before the first token of a chat request, audited as `action`.

        For wire formats other than chat's (the Responses API): the caller consumes `gen.deltas()` or
        `collect(gen)`, then calls `finish(gen, status)` once, which meters and durably audits it. With
        `responses`, a remote engine that serves /v1/responses itself is sent the prepared request in that
        form (`ResidencyRouter.respond`); every step before and after is the same.
        """
        prompt_text = json.dumps([m.model_dump(exclude_none=True) for m in req.messages], ensure_ascii=False)
        engine_req = req.to_engine(ctx.request_id, ctx.tenant_id)

        async def prepare(guard: RequestGuard) -> None:
            self._logit_bias(engine_req, req.logit_bias)
            engine_req.messages = await guard.prepare(engine_req.messages)
            if ctx.options.history == "sliding":
                engine_req.messages = await self._slide(engine_req)

        used: dict[str, Any] = {}  # the router says where it ran
        route = self.router.respond if responses else self.router.chat
        return await self._generate(ctx, action, req.model, prompt_text, engine_req, prepare, used,
                                    lambda: route(engine_req, ctx.tenant_id, key_id=ctx.key_id, used=used))

    async def collect(self, gen: Generation) -> None:
        """Run a started generation to the end (audited with its status if it fails)."""
        await self._run_to_end(gen)

    async def finish(self, gen: Generation, status: int | str) -> None:
        """Meter and durably audit a generation; a failure status never raises (it is logged instead)."""
        if status == 200:
            await self._finish(gen, 200)
        else:
            await self._finish_quietly(gen, status)

    async def complete(self, ctx: RequestContext, req: TextCompletionRequest) -> Reply:
        engine_req = req.to_engine(ctx.request_id, ctx.tenant_id)

        async def prepare(guard: RequestGuard) -> None:
            self._logit_bias(engine_req, req.logit_bias)
            engine_req.prompt = await guard.prepare_text(engine_req.prompt)

        used: dict[str, Any] = {}
        gen = await self._generate(ctx, "completions", req.model, req.prompt_text, engine_req, prepare, used,
                                   lambda: self.router.complete(engine_req, ctx.tenant_id, key_id=ctx.key_id,
                                                                used=used))
        if req.stream:
            return Reply(stream=self._completion_stream(gen, req), headers=gen.label.headers())
        await self._run_to_end(gen)
        await self._finish(gen, 200)
        echo = req.prompt_text if req.echo else ""
        body = completion_wire.completion_body(ctx.request_id, req.model, gen.created, gen.choices(), echo,
                                               gen.prompt_tokens, gen.completion_tokens, gen.response_extension())
        return Reply(body=body, headers=gen.label.headers())

    async def _generate(self, ctx: RequestContext, action: str, model: str, audit_input: str,
                        engine_req: ChatRequest | CompletionRequest, prepare: Callable[[RequestGuard], Any],
                        used: dict[str, Any], start: Callable[[], AsyncIterator[Delta]]) -> Generation:
        """Quota, safeguards, routing, watermark and label: everything before the first token.

        A failure here is audited with its status and re-raised for the API edge.
        """
        guard: RequestGuard | None = None
        try:
            self._check_quota(ctx)
            await self._available(model, "chat" if action != "completions" else "completion")
            guard = self.safeguards.open(ctx)
            with ctx.span.child("safeguards"):
                await prepare(guard)
            hook = guard.watermark_hook()
            if hook is not None:
                engine_req.logits_hooks.append(hook)
            with ctx.span.child("engine.first_token") as span:
                stream = start()
                first = await _first(stream)
                span.set("jaju.backend", used.get("backend"))
            backend = self.router.named(used["backend"])
            info = _info(backend, model)
            guard.ran_on(backend, hook is not None)
            with ctx.span.child("labelling"):
                label = guard.label(model=info.id, weights_sha256=info.sha256, jurisdiction=backend.jurisdiction,
                                    request_id=ctx.request_id)
        except ServiceError as e:
            await self._record(ctx, action, audit_input, e.status, guard=guard)
            raise
        return Generation(ctx, action, audit_input, guard, stream, first, backend, info, label,
                          used.get("upstream_api"))

    async def _run_to_end(self, gen: Generation) -> None:
        try:
            with gen.ctx.span.child("engine.generate"):
                await gen.collect()
        except ServiceError as e:
            await self._finish(gen, e.status)
            raise

    async def _chat_stream(self, gen: Generation, req: ChatCompletionRequest) -> AsyncIterator[bytes]:
        include_usage = bool(req.stream_options and req.stream_options.include_usage)
        rid, model, created = gen.ctx.request_id, req.model, gen.created
        opened: set[int] = set()
        status: int | str = "client_disconnected"
        try:
            for i in range(req.n):
                opened.add(i)
                yield sse(chat_wire.chunk_body(rid, model, created, {"role": "assistant", "content": ""}, None,
                                               include_usage, index=i))
            finals: list[bytes] = []
            async for d in gen.deltas():
                i = _index(d)
                delta, logprobs = chat_wire.delta_wire(d), chat_wire.logprobs_wire(d)
                if delta or logprobs:
                    yield sse(chat_wire.chunk_body(rid, model, created, delta, None, include_usage, index=i,
                                                   logprobs=logprobs))
                if d.finish_reason is not None:
                    final = chat_wire.chunk_body(rid, model, created, {}, gen.outcome(i).finish, include_usage,
                                                 index=i)
                    final["jaju"] = gen.extension(i)
                    finals.append(sse(final))
            if req.store:
                await self._keep(gen, req)
            # The record is durable (and signed) before the stream's end is released.
            await self._finish(gen, 200)
            for chunk in finals:
                yield chunk
            if include_usage:
                yield sse({"id": rid, "object": "chat.completion.chunk", "created": created, "model": model,
                           "system_fingerprint": None, "choices": [],
                           "usage": usage_dict(gen.prompt_tokens, gen.completion_tokens)})
            yield SSE_DONE
            status = 200
        except ServiceError as e:
            status = e.status
            yield sse(e.body())
        finally:
            if status != 200:
                await self._finish_quietly(gen, status)

    async def _completion_stream(self, gen: Generation, req: TextCompletionRequest) -> AsyncIterator[bytes]:
        rid, model, created = gen.ctx.request_id, req.model, gen.created
        status: int | str = "client_disconnected"
        try:
            if req.echo:
                for i in range(req.n):
                    yield sse(completion_wire.chunk_body(rid, model, created, req.prompt_text, None, index=i))
            finals: list[bytes] = []
            async for d in gen.deltas():
                i = _index(d)
                if d.finish_reason is not None:
                    chunk = completion_wire.chunk_body(rid, model, created, d.text, d.finish_reason, index=i,
                                                       logprobs=completion_wire.logprobs_wire(d))
                    chunk["jaju"] = gen.extension(i)
                    finals.append(sse(chunk))
                elif d.text:
                    yield sse(completion_wire.chunk_body(rid, model, created, d.text, None, index=i,
                                                         logprobs=completion_wire.logprobs_wire(d)))
            await self._finish(gen, 200)
            for chunk in finals:
                yield chunk
            if req.stream_options and req.stream_options.include_usage:
                yield sse({"id": rid, "object": "text_completion", "created": created, "model": model,
                           "choices": [], "usage": usage_dict(gen.prompt_tokens, gen.completion_tokens)})
            yield SSE_DONE
            status = 200
        except ServiceError as e:
            status = e.status
            yield sse(e.body())
        finally:
            if status != 200:
                await self._finish_quietly(gen, status)

    async def _keep(self, gen: Generation, req: ChatCompletionRequest) -> None:
        """`store: true`: keep the exchange, PII handled for storage, encrypted under the tenant's key."""
        out = gen.outcome(0)
        messages = [m.model_dump(exclude_none=True) for m in req.messages]
        stored, reply = await asyncio.to_thread(gen.guard.for_storage, messages, out.text)
        calls = [{"id": c.id, "name": c.name, "arguments": c.arguments} for c in out.tool_calls]
        await asyncio.to_thread(self.messages.keep, gen.ctx.tenant_id, gen.ctx.request_id, req.model, stored,
                                {"content": reply, "tool_calls": calls, "finish_reason": out.finish},
                                gen.guard.options.subject, req.metadata)

    # --- embeddings and tokens --------------------------------------------------------------
    async def embed(self, ctx: RequestContext, req: EmbeddingRequest) -> dict[str, Any]:
        joined = "\n".join(req.inputs)
        backend = info = None
        try:
            self._check_quota(ctx)
            backend, info = await self._backend(ctx, req.model, "embedding")
            input_type = req.jaju.input_type if req.jaju else "query"
            result = await self._observed(backend, backend.embed(req.model, req.inputs, input_type))
            vectors = result.vectors
            if req.dimensions is not None:
                if req.dimensions > vectors.shape[1]:
                    raise InvalidRequest(f"dimensions must be at most {vectors.shape[1]} for {req.model}.",
                                         param="dimensions")
                vectors = vectors[:, :req.dimensions]
                norms = (vectors ** 2).sum(axis=1, keepdims=True) ** 0.5
                vectors = vectors / norms.clip(min=1e-12)
        except ServiceError as e:
            await self._record(ctx, "embeddings", joined, e.status, info=info, backend=backend)
            raise
        self.usage.record(ctx.tenant_id, ctx.key_id, info.id, result.prompt_tokens, 0)
        await self._record(ctx, "embeddings", joined, 200, info=info, backend=backend,
                           extra={"prompt_tokens": result.prompt_tokens})
        body = embedding_body(req.model, vectors, req.encoding_format, result.prompt_tokens)
        if ctx.ignored_params:
            body["jaju"] = {"ignored_params": list(ctx.ignored_params)}
        return body

    async def count_tokens(self, ctx: RequestContext, model: str, text: str | None,
                           messages: list[dict[str, Any]] | None) -> dict[str, Any]:
        backend, info = await self._backend(ctx, model, "any")
        n = await self._observed(backend, backend.count_tokens(model, text=text, messages=messages))
        return {"object": "tokenize", "model": model, "count": n, "max_model_len": info.context_length}

    # --- for services built on these steps (jaju.korean.summarize, jaju.korean.segmenter) -----
    async def serving(self, model: str) -> list[Backend]:
        """The backends serving a chat model, a local one loaded on demand (404 for a model no one has)."""
        await self._available(model, "chat")
        return self.router.serving(model)

    async def embedding_backend(self, ctx: RequestContext, model: str) -> tuple[Backend, ModelInfo]:
        """Where this tenant's text may be embedded with `model`: quota checked, residency routed (503 if nowhere)."""
        self._check_quota(ctx)
        return await self._backend(ctx, model, "embedding")

    # --- shared steps -----------------------------------------------------------------------
    def _check_quota(self, ctx: RequestContext) -> None:
        """429 once the tenant has used its monthly token quota (tenant setting monthly_token_quota)."""
        quota = ctx.law.monthly_token_quota
        if quota and self.usage.month_tokens(ctx.tenant_id) >= quota:
            raise QuotaExceeded(f"This tenant's monthly quota of {quota:,} tokens is used up; it renews on the "
                                "first day of next month (UTC), or an operator can raise it.")

    async def _available(self, model: str, kind: str) -> None:
        """Make sure something can serve `model`: a remote backend, or a local model loaded on demand."""
        if not self.router.serving(model):
            local = await self.registry.get(model)  # 404 when no one has heard of the model
            self.router.add(local)
        info = _info(self.router.serving(model)[0], model)
        if kind == "embedding" and info.kind != "embedding":
            raise InvalidRequest(f"{named_model(model)} cannot make embeddings; use multilingual-e5-small.",
                                 "model_not_embedding", "model")
        if kind in ("chat", "completion") and info.kind == "embedding":
            raise InvalidRequest(f"{named_model(model)} only makes embeddings.", "model_not_chat", "model")

    async def _backend(self, ctx: RequestContext, model: str, kind: str) -> tuple[Backend, ModelInfo]:
        """The first backend this tenant may use for `model` (for calls that do not stream)."""
        await self._available(model, kind)
        backend = self.router.pick(model, ctx.tenant_id, key_id=ctx.key_id)[0]
        self.router.record_use(backend, model, ctx.tenant_id, key_id=ctx.key_id)
        return backend, _info(backend, model)

    async def _slide(self, engine_req: ChatRequest) -> list[dict[str, Any]]:
        """`jaju.history: "sliding"`: the oldest turns dropped until the prompt and the reply fit the context."""
        backend = self.router.serving(engine_req.model)[0]
        limit = _info(backend, engine_req.model).context_length
        if not limit:
            raise InvalidRequest("jaju.history \"sliding\" needs to know the model's context length, and this "
                                 "backend does not say it.", "history_unsupported", "jaju.history")
        reply = engine_req.sampling.max_tokens or DEFAULT_REPLY_TOKENS
        return await fit_history_async(
            engine_req.messages, lambda msgs: backend.count_tokens(engine_req.model, messages=msgs),
            max(1, limit - reply))

    def _logit_bias(self, engine_req: ChatRequest | CompletionRequest, bias: dict[str, int] | None) -> None:
        """OpenAI's logit_bias as a logits hook, each token id checked against the model's vocabulary.

        Only engines that apply logits hooks (the embedded one) can honour it; a model served only
        remotely gets a 400 rather than an answer that silently ignored the bias.
        """
        if not bias:
            return
        engines = [b for b in self.router.serving(engine_req.model) if getattr(b, "supports_logits_hooks", False)]
        if not engines:
            raise InvalidRequest("logit_bias needs a model served by the embedded engine here; this model runs "
                                 "on a remote engine.", "logit_bias_unsupported", "logit_bias")
        n_vocab = _info(engines[0], engine_req.model).vocab_size  # also known in an API worker (ModelInfo)
        if n_vocab is not None:
            check_logit_bias(bias, n_vocab)
        engine_req.logits_hooks.append(logit_bias_hook(bias))

    async def _observed(self, backend: Backend, call: Awaitable[T]) -> T:
        """A non-streaming backend call whose outcome tells the router at once whether the backend is up."""
        try:
            result = await call
        except ServiceError as e:
            if e.status in (502, 503, 504):
                self.router.mark(backend, False)
            raise
        self.router.mark(backend, True)
        return result

    async def _finish(self, gen: Generation, status: int | str) -> None:
        """Meter and durably audit a generation once (idempotent: a stream's cleanup may call it again)."""
        if gen.finished:
            return
        gen.finished = True
        ctx, info = gen.ctx, gen.info
        if status == 200:
            self.usage.record(ctx.tenant_id, ctx.key_id, info.id, gen.prompt_tokens, gen.completion_tokens)
            self._observe(gen)
        fields = {"prompt_tokens": gen.prompt_tokens, "completion_tokens": gen.completion_tokens,
                  "finish_reason": gen.outcome(0).finish,
                  "output_hmac": self.audit.hmac(ctx.tenant_id, gen.output_digest_text())}
        if len(gen.outcomes) > 1:
            fields["choices"] = len(gen.outcomes)
        if gen.upstream_api:
            fields["upstream_api"] = gen.upstream_api
        await self._record(ctx, gen.action, gen.audit_input, status, guard=gen.guard, info=info,
                           backend=gen.backend, extra=fields)

    async def _finish_quietly(self, gen: Generation, status: int | str) -> None:
        """A stream that did not complete acknowledged nothing; if even its record fails, say so in the log."""
        try:
            await self._finish(gen, status)
        except ServiceError as e:
            log.error("audit record of %s (status %s) failed: %s", gen.ctx.request_id, status, e.message)

    def _observe(self, gen: Generation) -> None:
        model = gen.info.id
        self.metrics.tokens.labels(model, "prompt").inc(gen.prompt_tokens)
        self.metrics.tokens.labels(model, "completion").inc(gen.completion_tokens)
        out = gen.outcome(0)
        if out.first_token_at is not None:
            self.metrics.ttft.labels(model).observe(out.first_token_at - gen.ctx.started)
            decode = time.perf_counter() - out.first_token_at
            if out.completion_tokens > 1 and decode > 0:
                self.metrics.tokens_per_second.labels(model).set((out.completion_tokens - 1) / decode)

    async def _record(self, ctx: RequestContext, action: str, audit_input: str, status: int | str, *,
                      guard: RequestGuard | None = None, info: ModelInfo | None = None,
                      backend: Backend | None = None, extra: dict[str, Any] | None = None) -> None:
        """The request's audit event, durable and signed before this returns (503 if it cannot be)."""
        fields: dict[str, Any] = {"request_id": ctx.request_id, "latency_ms": ctx.elapsed_ms(),
                                  "input_hmac": self.audit.hmac(ctx.tenant_id, audit_input)}
        if ctx.span.trace_id:
            fields["trace_id"] = ctx.span.trace_id
        if guard is not None:
            fields.update(guard.audit_fields())
        if info is not None and backend is not None:
            fields.update(model=info.id, weights_sha256=info.sha256, jurisdiction=backend.jurisdiction,
                          backend=backend.name)
        if extra:
            fields.update(extra)
        event = Event(action=action, tenant_id=ctx.tenant_id, key_id=ctx.key_id, status=status, fields=fields)
        with ctx.span.child("audit"):
            await self.audit.record(event)


def _index(d: Delta) -> int:
    return getattr(d, "index", 0)


def _info(backend: Backend, model: str) -> ModelInfo:
    models = backend.models()
    return next((m for m in models if m.id == model), models[0])


async def _first(stream: AsyncIterator[Delta]) -> Delta | None:
    try:
        return await anext(stream)
    except StopAsyncIteration:
        return None
