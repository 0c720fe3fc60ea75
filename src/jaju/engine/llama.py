"""The embedded engine: llama.cpp in-process (natively built), one model, continuous batching."""

from __future__ import annotations

import asyncio
import ctypes
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import llama_cpp

from jaju.engine.base import ChatRequest, CompletionRequest, Delta, EmbeddingResult, ModelInfo, Remaining, Usage
from jaju.engine.catalog import sampling_defaults
from jaju.engine.sampling import defaults_from_gguf, resolve
from jaju.engine.scheduler import Scheduler, Sequence
from jaju.engine.template import (ChatTemplate, parse_bare_tool_call, parse_tool_calls,
                                  response_format_grammar, tool_call_grammar)
from jaju.errors import ApiError, ModelError
from jaju.settings import EngineSettings


@llama_cpp.llama_log_callback
def _quiet(level, text, user_data):
    """llama.cpp's own chatter would drown jaju's logs; JAJU_LLAMA_VERBOSE=1 keeps it."""
    return None


class LlamaEngine:
    """A `Backend` for one GGUF model in this process."""

    supports_logits_hooks = True  # the compliance watermark runs inside this engine's sampler

    def __init__(self, info: ModelInfo, path: Path, settings: EngineSettings,
                 on_token: Callable[[], None] | None = None):
        self.name = f"embedded:{info.id}"  # unique per model: the residency router keys backends by name
        self.jurisdiction = info.jurisdiction
        self.info = info
        self.path = path
        self.settings = settings
        self._on_token = on_token
        self._model = None
        self._ctx = None
        self.scheduler: Scheduler | None = None
        self.template: ChatTemplate | None = None
        self.sampling_defaults: dict[str, float] = {}

    # --- lifecycle --------------------------------------------------------------------------
    def load(self) -> None:
        """Load weights and start the decode thread (blocking; call from a worker thread)."""
        llama_cpp.llama_backend_init()
        if os.environ.get("JAJU_LLAMA_VERBOSE") != "1":
            llama_cpp.llama_log_set(_quiet, ctypes.c_void_p(0))
        mparams = llama_cpp.llama_model_default_params()
        if os.environ.get("JAJU_LLAMA_EXTRA_BUFTS") != "1":
            # llama.cpp's extra weight layouts include AMX tiles on CPUs that advertise AMX; in the VMs
            # jaju is built on, AMX matmuls crash (SIGSEGV in ggml_backend_amx_mul_mat on a prompt of
            # more than one token). Plain CPU buffers work everywhere; JAJU_LLAMA_EXTRA_BUFTS=1 restores them.
            mparams.use_extra_bufts = False
        model = llama_cpp.llama_model_load_from_file(str(self.path).encode(), mparams)
        if not model:
            raise ModelError(f"llama.cpp could not load {self.path}; is it a GGUF file?")
        s = self.settings
        per_seq = min(s.context_size, llama_cpp.llama_model_n_ctx_train(model))
        n_ctx = max(per_seq, s.kv_cache_tokens)
        cparams = llama_cpp.llama_context_default_params()
        cparams.n_ctx = n_ctx
        cparams.n_batch = s.batch_size
        cparams.n_ubatch = s.batch_size
        cparams.n_seq_max = s.parallel
        cparams.n_threads = s.threads
        cparams.n_threads_batch = s.threads
        cparams.kv_unified = True
        cparams.no_perf = True
        ctx = llama_cpp.llama_init_from_model(model, cparams)
        if not ctx:
            llama_cpp.llama_model_free(model)
            raise ModelError(f"llama.cpp could not create a context of {n_ctx} tokens for {self.info.id}.")
        self._model, self._ctx = model, ctx
        self._vocab = llama_cpp.llama_model_get_vocab(model)
        self.info.context_length = per_seq
        self.info.vocab_size = int(llama_cpp.llama_vocab_n_tokens(self._vocab))
        source = self._meta("tokenizer.chat_template")
        if source:
            self.template = ChatTemplate(source, self._token_text(llama_cpp.llama_vocab_bos(self._vocab)),
                                         self._token_text(llama_cpp.llama_vocab_eos(self._vocab)))
        catalog = sampling_defaults(self.info.id)
        self.sampling_defaults = catalog if catalog is not None else defaults_from_gguf(self._meta)
        self.scheduler = Scheduler(model, ctx, n_ctx=n_ctx, parallel=s.parallel, batch_size=s.batch_size,
                                   max_queue=s.max_queue, per_seq_ctx=per_seq, on_token=self._on_token,
                                   prompt_cache=s.prompt_cache)
        self.info.loaded = True

    async def close(self) -> None:
        if self.scheduler is not None:
            await asyncio.to_thread(self.scheduler.close)
            self.scheduler = None
        if self._ctx:
            llama_cpp.llama_free(self._ctx)
            self._ctx = None
        if self._model:
            llama_cpp.llama_model_free(self._model)
            self._model = None
        self.info.loaded = False

    def _meta(self, key: str) -> str | None:
        buf = ctypes.create_string_buffer(64 * 1024)
        n = llama_cpp.llama_model_meta_val_str(self._model, key.encode(), buf, len(buf))
        return buf.value.decode("utf-8", errors="replace") if n >= 0 else None

    def _token_text(self, token: int) -> str:
        if token < 0:
            return ""
        return (llama_cpp.llama_vocab_get_text(self._vocab, token) or b"").decode("utf-8", errors="replace")

    # --- Backend protocol -------------------------------------------------------------------
    def models(self) -> list[ModelInfo]:
        return [self.info]

    async def healthy(self) -> bool:
        return self.scheduler is not None

    def tokenize(self, text: str, *, special: bool, add_bos: bool | None = None) -> list[int]:
        if self._model is None:
            raise ApiError(503, f"Model {self.info.id} is not loaded yet.", "service_unavailable", "model_loading")
        data = text.encode("utf-8")
        if add_bos is None:
            add_bos = bool(llama_cpp.llama_vocab_get_add_bos(self._vocab))
        cap = len(data) + 16
        buf = (llama_cpp.llama_token * cap)()
        n = llama_cpp.llama_tokenize(self._vocab, data, len(data), buf, cap, add_bos, special)
        if n < 0:
            cap = -n
            buf = (llama_cpp.llama_token * cap)()
            n = llama_cpp.llama_tokenize(self._vocab, data, len(data), buf, cap, add_bos, special)
        return list(buf[:n])

    def render_chat(self, request: ChatRequest) -> str:
        if self.template is None:
            raise ApiError(400, f"Model {self.info.id} has no chat template; use /v1/completions.",
                           code="model_not_chat")
        tools = request.tools if request.tool_choice != "none" else None
        return self.template.render(request.messages, tools)

    async def count_tokens(self, model: str, text: str | None = None,
                           messages: list[dict[str, Any]] | None = None) -> int:
        if messages is not None:
            return len(self.tokenize(self.render_chat(ChatRequest(model=model, messages=messages)), special=True))
        return len(self.tokenize(text or "", special=False))

    def prepare_chat(self, request: ChatRequest) -> Run:
        """A chat request's sequences, ready to submit (tokenized, grammar and sampler settings resolved)."""
        prompt = self.tokenize(self.render_chat(request), special=True)
        grammar = response_format_grammar(request.response_format)
        forced = request.tool_choice
        if request.tools and (forced == "required" or isinstance(forced, dict)):
            name = forced.get("function", {}).get("name") if isinstance(forced, dict) else None
            grammar = tool_call_grammar(request.tools, name)
        split = bool(request.tools) and forced != "none"
        sampling = resolve(request.sampling, self.sampling_defaults)
        seqs = [Sequence(prompt=prompt, sampling=sampling, grammar=grammar, hooks=request.logits_hooks,
                         split_tools=split, max_new=self._max_new(sampling.max_tokens), emit=None,
                         cache_scope=request.cache_scope)
                for _ in range(sampling.n)]
        names = {t.get("function", {}).get("name") for t in request.tools or []}
        return Run(seqs, [_ToolReply(seq, names) for seq in seqs] if split else None)

    def prepare_completion(self, request: CompletionRequest) -> Run:
        prompt = self.tokenize(request.prompt, special=False)
        if not prompt:
            raise ApiError(400, "The prompt is empty.", param="prompt")
        sampling = resolve(request.sampling, self.sampling_defaults)
        return Run([Sequence(prompt=prompt, sampling=sampling, hooks=request.logits_hooks,
                             max_new=self._max_new(sampling.max_tokens), emit=None, cache_scope=request.cache_scope)
                    for _ in range(sampling.n)])

    def submit(self, run: Run, deliver: Callable[[Delta | BaseException], None],
               flush: Callable[[], None] | None = None) -> None:
        """Start a prepared run; `deliver` gets its deltas (then its last one, or an error) on the engine
        thread, so it must not block, and `flush` is called there after each decode step the run took
        part in. The engine process sends them on from there without a task per token."""
        if self.scheduler is None:
            raise ApiError(503, f"Model {self.info.id} is not loaded yet.", "service_unavailable", "model_loading")

        def emit(item: Delta | BaseException) -> None:
            out = run.take(item)
            if out is not None:
                deliver(out)

        for seq in run.seqs:
            seq.emit = emit
            seq.flush = flush
        self.scheduler.submit(*run.seqs)

    def cancel(self, run: Run) -> None:
        """Stop whatever of a run is still going (a no-op for choices that finished)."""
        if self.scheduler is not None:
            self.scheduler.cancel(*run.seqs)

    async def chat(self, request: ChatRequest) -> AsyncIterator[Delta]:
        async for delta in self._run(self.prepare_chat(request)):
            yield delta

    async def complete(self, request: CompletionRequest) -> AsyncIterator[Delta]:
        async for delta in self._run(self.prepare_completion(request)):
            yield delta

    async def embed(self, model: str, inputs: list[str], input_type: str = "query") -> EmbeddingResult:
        raise ApiError(400, f"Model {model} is a generation model; use an embedding model.", code="model_not_embedding")

    def _max_new(self, requested: int | None) -> int:
        return requested if requested is not None else self.settings.max_tokens_default

    async def _run(self, run: Run) -> AsyncIterator[Delta]:
        """Stream a run's deltas on this event loop (in-process use; closing early cancels it)."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Delta | BaseException] = asyncio.Queue()
        self.submit(run, lambda item: loop.call_soon_threadsafe(queue.put_nowait, item))
        running = Remaining(len(run.seqs))  # counted here: `run.done` is the engine thread's, ahead of this queue
        try:
            while running:
                item = await queue.get()
                if isinstance(item, BaseException):
                    raise item
                running.finish(item)
                yield item
        finally:
            if running:
                self.cancel(run)


class Run:
    """One request's sequences (its n choices) and what turns their raw deltas into the request's.

    `take` runs on the engine thread: it holds back a reply that may be a bare tool call, and gives the
    last choice to finish the request's usage. `done` once the last choice finished or one failed.
    """

    def __init__(self, seqs: list[Sequence], replies: list[_ToolReply] | None = None):
        self.seqs = seqs
        self.replies = replies
        self.running = Remaining(len(seqs))
        self.completion = 0
        self.done = False

    def take(self, item: Delta | BaseException) -> Delta | BaseException | None:
        if self.done:
            return None
        if isinstance(item, BaseException):
            self.done = True
            return item
        if item.finish_reason is not None:
            self.completion += item.usage.completion_tokens
            self.done = self.running.finish(item)
            if len(self.seqs) > 1:
                item.usage = Usage(item.usage.prompt_tokens, self.completion) if self.done else None
        if self.replies is not None:
            return self.replies[item.index].filter(item)
        return item


class _ToolReply:
    """One choice's tool-call handling: a reply that opens like JSON may be a bare tool call, so hold it."""

    def __init__(self, seq: Sequence, names: set[str]):
        self.seq = seq
        self.names = names
        self.deciding = True
        self.held = ""
        self.held_logprobs: list = []

    def filter(self, delta: Delta) -> Delta | None:
        if self.deciding:
            self.held += delta.text
            self.held_logprobs.extend(delta.logprobs or [])
            start = self.held.lstrip()[:1]
            if delta.finish_reason is None and (not start or start in "{`"):
                return None
            self.deciding, delta.text, self.held = False, self.held, ""
            delta.logprobs, self.held_logprobs = (self.held_logprobs or None), []
        if delta.finish_reason is not None:
            tools = self.seq.tools
            calls = parse_tool_calls(tools.tool_text) if tools.in_tools else []
            if not calls and delta.text.lstrip()[:1] in ("{", "`"):
                calls = parse_bare_tool_call(delta.text, self.names)
                if calls:
                    delta.text = ""
            if calls:
                delta.tool_calls, delta.finish_reason = calls, "tool_calls"
        return delta
