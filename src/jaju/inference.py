"""InferenceService: the one place a chat, completion or embedding request runs its steps, in order."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from jaju.api.auth import Principal
from jaju.audit import AuditLog, Event
from jaju.compliance.labelling import Label
from jaju.conversations.store import MessageStore
from jaju.engine.base import Backend, Delta, ModelInfo, ToolCall
from jaju.engine.registry import ModelRegistry
from jaju.errors import ApiError
from jaju.metrics import Metrics
from jaju.protocol import chat as chat_wire
from jaju.protocol import completions as completion_wire
from jaju.protocol.chat import ChatCompletionRequest
from jaju.protocol.common import new_id, now, usage_dict
from jaju.protocol.completions import TextCompletionRequest
from jaju.protocol.common import JajuRequestExtension
from jaju.protocol.embeddings import EmbeddingRequest, embedding_body
from jaju.safeguards import RequestGuard, RequestOptions, Safeguards
from jaju.sovereignty.factory import Sovereignty
from jaju.tenancy.usage import UsageMeter


@dataclass
class Outcome:
    """What one generation produced, for the response, the audit trail and the meters."""

    text: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    finish: str = "stop"
    prompt_tokens: int = 0
    completion_tokens: int = 0
    first_token_at: float | None = None


@dataclass
class Reply:
    """A JSON body or an SSE stream, with the headers that label it."""

    body: dict[str, Any] | None = None
    stream: AsyncIterator[bytes] | None = None
    headers: dict[str, str] = field(default_factory=dict)


def _sse(data: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n\n"


SSE_DONE = b"data: [DONE]\n\n"


class InferenceService:
    def __init__(self, registry: ModelRegistry, sovereignty: Sovereignty, audit: AuditLog, usage: UsageMeter,
                 metrics: Metrics, safeguards: Safeguards, messages: MessageStore):
        self.sovereignty = sovereignty
        self.messages = messages
        self.registry = registry
        self.audit = audit
        self.usage = usage
        self.metrics = metrics
        self.safeguards = safeguards

    def _guard(self, p: Principal, ext: JajuRequestExtension | None, subject: str | None) -> RequestGuard:
        options = RequestOptions(subject=subject or (ext.subject if ext else None),
                                 conversation_id=ext.conversation_id if ext else None,
                                 knowledge_bases=tuple(ext.knowledge_bases) if ext else (),
                                 knowledge_top_k=ext.knowledge_top_k if ext else 5)
        return self.safeguards.open(p, options)

    def check_quota(self, p: Principal, quota: int | None) -> None:
        """429 once the tenant has used its monthly token quota (tenant setting monthly_token_quota)."""
        if quota and self.usage.month_tokens(p.tenant_id) >= quota:
            raise ApiError(429, f"This tenant's monthly quota of {quota:,} tokens is used up; it renews on the "
                                "first day of next month (UTC), or an operator can raise it.",
                           "insufficient_quota", "quota_exceeded")

    async def _available(self, model: str, kind: str) -> None:
        """Make sure something can serve `model`: a remote backend, or a local model loaded on demand."""
        router = self.sovereignty.router
        if not router.serving(model):
            local = await self.registry.get(model)  # 404 when no one has heard of the model
            if local not in router.backends:
                router.backends.append(local)
        info = _info(router.serving(model)[0], model)
        if kind == "embedding" and info.kind != "embedding":
            raise ApiError(400, f"Model {model} cannot make embeddings; use multilingual-e5-small.",
                           param="model", code="model_not_embedding")
        if kind in ("chat", "completion") and info.kind == "embedding":
            raise ApiError(400, f"Model {model} only makes embeddings.", param="model", code="model_not_chat")

    async def _backend(self, model: str, kind: str, p: Principal) -> tuple[Backend, ModelInfo]:
        """The first backend this tenant may use for `model` (for calls that do not stream)."""
        await self._available(model, kind)
        backend = self.sovereignty.router.pick(model, p.tenant_id, key_id=p.key_id)[0]
        self.sovereignty.router.record_use(backend, model, p.tenant_id, key_id=p.key_id)
        return backend, _info(backend, model)

    async def _start(self, p: Principal, rid: str, model: str, guard: RequestGuard, engine_req,
                     run) -> tuple[AsyncIterator[Delta], Delta | None, Backend, ModelInfo, Label]:
        """Start a generation through the residency router, watermarked and labelled as the packs ask.

        Returns the stream, its first delta (so errors before the first byte keep their status), the
        backend that runs it, its model info and the response label. Call `_available` first.
        """
        hook = guard.watermark_hook()
        if hook is not None:
            engine_req.logits_hooks.append(hook)
        used: dict[str, Any] = {}
        stream = run(self.sovereignty.router, used)
        first = await _first(stream)
        backend = next(b for b in self.sovereignty.router.backends if b.name == used.get("backend"))
        info = _info(backend, model)
        guard.ran_on(backend, hook is not None)
        label = guard.label(model=info.id, weights_sha256=info.sha256, jurisdiction=backend.jurisdiction,
                            request_id=rid)
        return stream, first, backend, info, label

    @staticmethod
    def _extension(backend: Backend, guard: RequestGuard, label: Label, text: str) -> dict[str, Any]:
        """The response's `jaju` object: the signed label (model, weights, jurisdiction, notices, manifest
        over exactly `text`), where it ran, and what the safeguards did (citations, PII counts)."""
        return {"backend": backend.name, **guard.extension(), **guard.provenance(label, text)}

    def _record(self, p: Principal, action: str, rid: str, info: ModelInfo | None, backend: Backend | None,
                started: float, status: int | str, prompt_text: str, out: Outcome | None,
                guard: RequestGuard | None = None) -> None:
        latency = time.perf_counter() - started
        fields: dict[str, Any] = {"request_id": rid, "latency_ms": round(latency * 1000, 2),
                                  "input_hmac": self.audit.hmac(p.tenant_id, prompt_text)}
        if guard is not None:
            fields.update(guard.audit_fields())
        if info is not None and backend is not None:
            fields.update(model=info.id, weights_sha256=info.sha256, jurisdiction=backend.jurisdiction,
                          backend=backend.name)
        if out is not None:
            fields.update(prompt_tokens=out.prompt_tokens, completion_tokens=out.completion_tokens,
                          finish_reason=out.finish,
                          output_hmac=self.audit.hmac(p.tenant_id, out.text + json.dumps(
                              [[c.name, c.arguments] for c in out.tool_calls], ensure_ascii=False)))
            if info is not None:
                self.usage.record(p.tenant_id, p.key_id, info.id, out.prompt_tokens, out.completion_tokens)
                self.metrics.tokens.labels(info.id, "prompt").inc(out.prompt_tokens)
                self.metrics.tokens.labels(info.id, "completion").inc(out.completion_tokens)
                if out.first_token_at is not None:
                    self.metrics.ttft.labels(info.id).observe(out.first_token_at - started)
                    decode = time.perf_counter() - out.first_token_at
                    if out.completion_tokens > 1 and decode > 0:
                        self.metrics.tokens_per_second.labels(info.id).set((out.completion_tokens - 1) / decode)
        self.audit.append(Event(action=action, tenant_id=p.tenant_id, key_id=p.key_id, status=status, fields=fields))

    # --- chat -------------------------------------------------------------------------------
    async def chat(self, p: Principal, req: ChatCompletionRequest,
                   subject: str | None = None) -> Reply:
        rid = new_id("chatcmpl")
        started = time.perf_counter()
        prompt_text = json.dumps([m.model_dump(exclude_none=True) for m in req.messages], ensure_ascii=False)
        info = backend = guard = None
        try:
            await self._available(req.model, "chat")
            guard = self._guard(p, req.jaju, subject)
            engine_req = req.to_engine(rid)
            engine_req.messages = await guard.prepare(engine_req.messages)
            stream, first, backend, info, label = await self._start(
                p, rid, req.model, guard, engine_req,
                lambda r, used: r.chat(engine_req, p.tenant_id, key_id=p.key_id, used=used))
            if req.stream:
                return Reply(stream=self._chat_sse(p, req, rid, info, backend, started, prompt_text, first, stream,
                                                   guard, label), headers=label.headers())
            out = await _collect(_chain(first, stream))
            out.text = guard.finish_text(out.text)
            out.tool_calls = guard.finish_tool_calls(out.tool_calls)
            guard.cite(out.text)
            if req.store:
                await self._keep(p, req, rid, guard, out)
        except ApiError as e:
            self._record(p, "chat.completions", rid, info, backend, started, e.status, prompt_text, None, guard)
            raise
        self._record(p, "chat.completions", rid, info, backend, started, 200, prompt_text, out, guard)
        ext = self._extension(backend, guard, label, out.text)
        body = chat_wire.completion_body(rid, req.model, out.text, out.tool_calls, out.finish, out.prompt_tokens,
                                         out.completion_tokens, jaju=ext)
        return Reply(body=body, headers=label.headers())

    async def _chat_sse(self, p: Principal, req: ChatCompletionRequest, rid: str, info: ModelInfo,
                        backend: Backend, started: float, prompt_text: str, first: Delta | None,
                        stream: AsyncIterator[Delta], guard: RequestGuard, label: Label) -> AsyncIterator[bytes]:
        created = now()
        include_usage = bool(req.stream_options and req.stream_options.include_usage)
        out = Outcome()
        status: int | str = "client_disconnected"
        filt = guard.stream()
        try:
            yield _sse(chat_wire.chunk_body(rid, req.model, created, {"role": "assistant", "content": ""}, None,
                                            None, include_usage))
            async for d in _chain(first, stream):
                d.text = filt.feed(d.text)
                if d.finish_reason is not None:
                    d.text += filt.flush()
                    if d.tool_calls:
                        d.tool_calls = guard.finish_tool_calls(d.tool_calls)
                _absorb(out, d)
                delta = chat_wire.delta_wire(d, first=False)
                if delta:
                    yield _sse(chat_wire.chunk_body(rid, req.model, created, delta, None, None, include_usage))
                if d.finish_reason is not None:
                    guard.cite(out.text)
                    if req.store:
                        await self._keep(p, req, rid, guard, out)
                    final = chat_wire.chunk_body(rid, req.model, created, {}, out.finish, None, include_usage)
                    final["jaju"] = self._extension(backend, guard, label, out.text)
                    yield _sse(final)
            if include_usage:
                yield _sse({"id": rid, "object": "chat.completion.chunk", "created": created, "model": req.model,
                            "system_fingerprint": None, "choices": [],
                            "usage": usage_dict(out.prompt_tokens, out.completion_tokens)})
            yield SSE_DONE
            status = 200
        except ApiError as e:
            status = e.status
            yield _sse(e.body())
        finally:
            await stream.aclose()
            self._record(p, "chat.completions", rid, info, backend, started, status, prompt_text, out, guard)

    async def _keep(self, p: Principal, req: ChatCompletionRequest, rid: str, guard: RequestGuard,
                    out: Outcome) -> None:
        """`store: true`: keep the exchange, PII handled for storage, encrypted under the tenant's key."""
        messages = [m.model_dump(exclude_none=True) for m in req.messages]
        stored, reply = await asyncio.to_thread(guard.for_storage, messages, out.text)
        calls = [{"id": c.id, "name": c.name, "arguments": c.arguments} for c in out.tool_calls]
        await asyncio.to_thread(self.messages.keep, p.tenant_id, rid, req.model, stored,
                                {"content": reply, "tool_calls": calls, "finish_reason": out.finish},
                                guard.options.subject, req.metadata)

    # --- completions ------------------------------------------------------------------------
    async def complete(self, p: Principal, req: TextCompletionRequest,
                       subject: str | None = None) -> Reply:
        rid = new_id("cmpl")
        started = time.perf_counter()
        info = backend = guard = None
        try:
            await self._available(req.model, "completion")
            guard = self._guard(p, req.jaju, subject)
            engine_req = req.to_engine(rid)
            engine_req.prompt = await guard.prepare_text(engine_req.prompt)
            stream, first, backend, info, label = await self._start(
                p, rid, req.model, guard, engine_req,
                lambda r, used: r.complete(engine_req, p.tenant_id, key_id=p.key_id, used=used))
            if req.stream:
                return Reply(stream=self._complete_sse(p, req, rid, info, backend, started, first, stream, guard,
                                                       label), headers=label.headers())
            out = await _collect(_chain(first, stream))
            out.text = guard.finish_text(out.text)
        except ApiError as e:
            self._record(p, "completions", rid, info, backend, started, e.status, req.prompt_text, None, guard)
            raise
        self._record(p, "completions", rid, info, backend, started, 200, req.prompt_text, out, guard)
        text = req.prompt_text + out.text if req.echo else out.text
        ext = self._extension(backend, guard, label, out.text)
        body = completion_wire.completion_body(rid, req.model, text, out.finish, out.prompt_tokens,
                                               out.completion_tokens, jaju=ext)
        return Reply(body=body, headers=label.headers())

    async def _complete_sse(self, p, req, rid, info, backend, started, first, stream,
                            guard: RequestGuard, label: Label) -> AsyncIterator[bytes]:
        created = now()
        out = Outcome()
        status: int | str = "client_disconnected"
        filt = guard.stream()
        try:
            if req.echo:
                yield _sse(completion_wire.chunk_body(rid, req.model, created, req.prompt_text, None))
            async for d in _chain(first, stream):
                d.text = filt.feed(d.text) + (filt.flush() if d.finish_reason is not None else "")
                _absorb(out, d)
                if d.text or d.finish_reason:
                    chunk = completion_wire.chunk_body(rid, req.model, created, d.text, d.finish_reason)
                    if d.finish_reason is not None:
                        chunk["jaju"] = self._extension(backend, guard, label, out.text)
                    yield _sse(chunk)
            if req.stream_options and req.stream_options.include_usage:
                yield _sse({"id": rid, "object": "text_completion", "created": created, "model": req.model,
                            "choices": [], "usage": usage_dict(out.prompt_tokens, out.completion_tokens)})
            yield SSE_DONE
            status = 200
        except ApiError as e:
            status = e.status
            yield _sse(e.body())
        finally:
            await stream.aclose()
            self._record(p, "completions", rid, info, backend, started, status, req.prompt_text, out, guard)

    # --- embeddings and tokens --------------------------------------------------------------
    async def embed(self, p: Principal, req: EmbeddingRequest) -> dict[str, Any]:
        rid = new_id("emb")
        started = time.perf_counter()
        joined = "\n".join(req.inputs)
        info = backend = None
        try:
            backend, info = await self._backend(req.model, "embedding", p)
            input_type = req.jaju.input_type if req.jaju else "query"
            result = await backend.embed(req.model, req.inputs, input_type)
        except ApiError as e:
            self._record(p, "embeddings", rid, info, backend, started, e.status, joined, None)
            raise
        vectors = result.vectors
        if req.dimensions is not None:
            if req.dimensions > vectors.shape[1]:
                raise ApiError(400, f"dimensions must be at most {vectors.shape[1]} for {req.model}.",
                               param="dimensions")
            vectors = vectors[:, :req.dimensions]
            norms = (vectors ** 2).sum(axis=1, keepdims=True) ** 0.5
            vectors = vectors / norms.clip(min=1e-12)
        self._record(p, "embeddings", rid, info, backend, started, 200, joined,
                     Outcome(prompt_tokens=result.prompt_tokens))
        return embedding_body(req.model, vectors, req.encoding_format, result.prompt_tokens)

    async def count_tokens(self, p: Principal, model: str, text: str | None,
                           messages: list[dict[str, Any]] | None) -> dict[str, Any]:
        backend, info = await self._backend(model, "any", p)
        n = await backend.count_tokens(model, text=text, messages=messages)
        limit = info.context_length
        return {"object": "tokenize", "model": model, "count": n, "max_model_len": limit}


def _info(backend: Backend, model: str) -> ModelInfo:
    models = backend.models()
    return next((m for m in models if m.id == model), models[0])


async def _first(stream: AsyncIterator[Delta]) -> Delta | None:
    try:
        return await anext(stream)
    except StopAsyncIteration:
        return None


async def _chain(first: Delta | None, stream: AsyncIterator[Delta]) -> AsyncIterator[Delta]:
    try:
        if first is not None:
            yield first
            if first.finish_reason is not None:
                return
        async for d in stream:
            yield d
    finally:
        await stream.aclose()


def _absorb(out: Outcome, d: Delta) -> None:
    if out.first_token_at is None and (d.text or d.tool_calls or d.finish_reason):
        out.first_token_at = time.perf_counter()
    out.text += d.text
    if d.tool_calls:
        out.tool_calls.extend(d.tool_calls)
    if d.finish_reason is not None:
        out.finish = d.finish_reason
    if d.usage is not None:
        out.prompt_tokens, out.completion_tokens = d.usage.prompt_tokens, d.usage.completion_tokens


async def _collect(stream: AsyncIterator[Delta]) -> Outcome:
    out = Outcome()
    try:
        async for d in stream:
            _absorb(out, d)
    finally:
        await stream.aclose()
    return out
