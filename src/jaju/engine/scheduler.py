"""Continuous batching on one llama.cpp context: every active sequence advances one token per decode.

One engine thread owns the context. Requests join a FIFO queue; a request is admitted when a sequence
slot is free and its KV-cache reservation (prompt + max new tokens) fits. Each decode step feeds the
last token of every generating sequence plus a budgeted chunk of any prompt still being read, so a long
prompt never stalls running streams. Tokens leave through a callback that must not block (the API side
puts them on an asyncio queue), so one slow reader cannot hold up the others. A cancelled sequence is
dropped before the next decode and its slot is free at once; its KV cells are free for reuse or
eviction (the optional prompt cache keeps them for a request with the same prefix).
"""

from __future__ import annotations

import ctypes
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import llama_cpp
import numpy as np

from jaju.engine.base import Delta, LogitsHook, SamplingParams, TokenLogprob, Usage
from jaju.engine.logprobs import LogprobReader
from jaju.engine.sampling import build_chain, fast_greedy, greedy
from jaju.engine.textstream import StopScanner, ToolCallSplitter, Utf8Stream
from jaju.engine.utf8guard import CLEAN, State, Utf8Guard, state_of, token_pieces
from jaju.errors import ApiError

Emit = Callable[[Delta | BaseException], None]
log = logging.getLogger("jaju.engine")


@dataclass(eq=False)
class Sequence:
    """One generation in flight."""

    prompt: list[int]
    sampling: SamplingParams
    max_new: int
    emit: Emit
    grammar: str | None = None
    # Called once after every decode step in which this sequence took part (shared callables once per
    # step): a consumer can send what `emit` gathered during the step as one message.
    flush: Callable[[], None] | None = None
    hooks: list[LogitsHook] = field(default_factory=list)
    split_tools: bool = False
    cancelled: bool = False
    cache_scope: str = ""  # only a sequence of the same scope (tenant) reuses the KV this one leaves; "" none
    # engine-thread state
    slot: int = -1
    n_past: int = 0
    generated: list[int] = field(default_factory=list)
    sampler: object = None
    grammar_sampler: object = None
    out_index: int = -1
    enqueued_at: float = field(default_factory=time.perf_counter)
    first_token_at: float | None = None
    utf8: Utf8Stream = field(default_factory=Utf8Stream)
    stops: StopScanner | None = None
    tools: ToolCallSplitter | None = None
    utf8_state: State = CLEAN
    # n > 1: choice `index`; the first choice reads the prompt, the others copy its KV (`parent`)
    index: int = 0
    children: list[Sequence] = field(default_factory=list)
    parent: Sequence | None = None
    waiting: bool = False  # a child whose parent has not finished reading the prompt yet
    shared_row: np.ndarray | None = None  # the parent's logits before its hooks ran (children reuse them)
    logprobs: list[TokenLogprob] = field(default_factory=list)  # sampled, not yet emitted
    utf8_fixes: int = 0  # tokens the UTF-8 guard refused (each would have shown U+FFFD)

    @property
    def reserve(self) -> int:
        return self.max_new + (0 if self.parent is not None else len(self.prompt))

    @property
    def prefilling(self) -> bool:
        return self.n_past < len(self.prompt)


class Scheduler:
    """Owns the llama.cpp context and its decode loop on one thread."""

    def __init__(self, model, ctx, *, n_ctx: int, parallel: int, batch_size: int, max_queue: int,
                 per_seq_ctx: int, on_token: Callable[[], None] | None = None, prompt_cache: bool = False):
        self._model = model
        self._vocab = llama_cpp.llama_model_get_vocab(model)
        self._ctx = ctx
        self._mem = llama_cpp.llama_get_memory(ctx)
        self.n_vocab = llama_cpp.llama_vocab_n_tokens(self._vocab)
        self.n_ctx = n_ctx
        self.per_seq_ctx = per_seq_ctx
        self.batch_size = batch_size
        self.max_queue = max_queue
        self.parallel = parallel
        self._free_slots = list(range(parallel - 1, -1, -1))
        self._batch = llama_cpp.llama_batch_init(batch_size, 0, 1)
        self._pending: deque[Sequence] = deque()
        self._active: list[Sequence] = []
        self._reserved = 0
        # free slot -> (scope, tokens its KV still holds), oldest first
        self._cache: dict[int, tuple[str, list[int]]] = {}
        self.prompt_tokens_reused = 0
        self.prompt_cache = prompt_cache
        self._cv = threading.Condition()
        self._stopping = False
        self._on_token = on_token
        # Built once per model: every token's bytes (no token_to_piece call per step), end-of-generation
        # flags, and the UTF-8 masks that keep a sampled reply free of broken characters.
        self.pieces = token_pieces(self._vocab, self.n_vocab)
        self._eog = [bool(llama_cpp.llama_vocab_is_eog(self._vocab, t)) for t in range(self.n_vocab)]
        self._guard = Utf8Guard(self.pieces)
        self.utf8_guard = True  # tests and benchmarks switch it off to show what it prevents
        self.utf8_resamples = 0
        self._logprobs = LogprobReader(self.pieces)
        token_data = np.dtype([("id", np.int32), ("logit", np.float32), ("p", np.float32)])
        self._cand = np.zeros(self.n_vocab, dtype=token_data)
        self._one = np.zeros(1, dtype=token_data)
        self._ids = np.arange(self.n_vocab, dtype=np.int32)
        self._data_ptr = ctypes.POINTER(llama_cpp.llama_token_data)
        self.tokens_generated = 0
        self._thread = threading.Thread(target=self._loop, name="jaju-llama", daemon=True)
        self._thread.start()

    # --- called from any thread -------------------------------------------------------------
    @property
    def queue_depth(self) -> int:
        return len(self._pending)

    @property
    def active(self) -> int:
        return len(self._active)

    def submit(self, *seqs: Sequence) -> None:
        """Queue one generation, or the n choices of one request (they share the first one's prompt)."""
        first = seqs[0]
        if len(first.prompt) >= self.per_seq_ctx:
            raise ApiError(400, f"The prompt has {len(first.prompt)} tokens; this model's context per request is "
                                f"{self.per_seq_ctx}. Shorten the messages.", code="context_length_exceeded")
        if len(seqs) > self.parallel:
            raise ApiError(400, f"n={len(seqs)} is more than this engine's {self.parallel} parallel sequences.",
                           param="n")
        for i, seq in enumerate(seqs):
            seq.max_new = max(1, min(seq.max_new, self.per_seq_ctx - len(seq.prompt)))
            seq.index = i
            seq.parent, seq.waiting = (first, True) if i else (None, False)
        first.children = list(seqs[1:])
        if sum(s.reserve for s in seqs) > self.n_ctx:
            raise ApiError(400, f"{len(seqs)} choices of up to {first.max_new} tokens do not fit this engine's "
                                f"KV cache ({self.n_ctx} tokens); lower n or max_tokens.", param="n")
        made = []
        try:
            for seq in seqs:
                seq.stops = StopScanner(seq.sampling.stop)
                seq.tools = ToolCallSplitter() if seq.split_tools else None
                self._make_sampler(seq)
                made.append(seq)
        except BaseException:
            for seq in made:
                _free_samplers(seq)
            raise
        with self._cv:
            if len(self._pending) >= self.max_queue:
                for seq in seqs:
                    _free_samplers(seq)
                raise ApiError(429, "The engine's queue is full; retry shortly.", "rate_limit_error",
                               "engine_overloaded", headers={"Retry-After": "1"})
            self._pending.extend(seqs)
            self._cv.notify()

    def cancel(self, *seqs: Sequence) -> None:
        with self._cv:
            for seq in seqs:
                seq.cancelled = True
                if seq in self._pending:
                    self._pending.remove(seq)
                    _free_samplers(seq)
            self._cv.notify()

    def close(self) -> None:
        with self._cv:
            self._stopping = True
            self._cv.notify()
        self._thread.join(timeout=30)
        left = list(self._pending) + self._active
        for seq in left:
            seq.emit(ApiError(503, "The engine is shutting down.", "service_unavailable", "engine_stopped"))
        _flush(left)
        llama_cpp.llama_batch_free(self._batch)

    # --- sampler ----------------------------------------------------------------------------
    def _make_sampler(self, seq: Sequence) -> None:
        if seq.grammar:
            # Kept apart from the chain: checking one sampled token against the grammar is far cheaper
            # than masking all ~150k vocabulary entries every step (llama.cpp's common sampler does the same).
            seq.grammar_sampler = llama_cpp.llama_sampler_init_grammar(self._vocab, seq.grammar.encode(), b"root")
            if not seq.grammar_sampler:
                raise ApiError(400, "The requested output format could not be compiled into a grammar.",
                               param="response_format")
        if fast_greedy(seq.sampling, seq.grammar):
            return  # an argmax in numpy (sampling.greedy): no chain to build or run
        # Choice i of a seeded request draws with seed + i: distinct choices, each reproducible.
        seq.sampler = build_chain(seq.sampling, self._vocab, self.n_vocab, seed_offset=seq.index)

    # --- engine thread ----------------------------------------------------------------------
    def _loop(self) -> None:
        while True:
            with self._cv:
                self._reap()
                self._admit()
                while not self._active and not self._stopping:
                    self._cv.wait()
                    self._reap()
                    self._admit()
                if self._stopping:
                    return
                stepping = self._active[:]
            try:
                self._step()
            except ApiError as e:
                for seq in list(self._active):
                    self._finish(seq, None, error=e)
            except Exception:  # a bug in one step must not kill the engine thread and hang every client
                log.exception("engine step failed; failing the sequences in flight")
                error = ApiError(503, "The engine failed on this batch; retry the request.", "service_unavailable",
                                 "engine_error")
                for seq in list(self._active):
                    self._finish(seq, None, error=error)
            _flush(stepping)

    def _admit(self) -> None:
        while self._pending and len(self._free_slots) > len(self._pending[0].children):
            seq = self._pending[0]
            group = [seq, *seq.children]  # the n choices of one request start together
            need = sum(s.reserve for s in group)
            # A seeded request prefills afresh: reusing cached KV changes the batch shapes, and with them
            # the last bits of the logits, so a seed would no longer reproduce its sample exactly.
            slot, reuse = self._best_slot(seq.prompt if self.prompt_cache and seq.sampling.seed is None else [],
                                          seq.cache_scope)
            while self._reserved + need + self._cached_cells(keep=slot) > self.n_ctx and self._evict(keep=slot):
                pass
            if self._reserved + need + self._cached_cells(keep=slot) > self.n_ctx and self._active:
                return  # wait for KV room; an idle engine always admits (submit checks a group fits)
            for member in group:
                self._pending.popleft()
                if member is not seq:
                    slot, reuse = self._best_slot([], "")
                self._free_slots.remove(slot)
                self._take(slot, member, reuse)
                self._reserved += member.reserve
                self._active.append(member)

    # --- prompt cache: a free slot keeps the KV of its last sequence until the space is needed ---
    def _best_slot(self, prompt: list[int], scope: str) -> tuple[int, int]:
        """The free slot whose cached tokens, left by the same scope, share the longest prefix with `prompt`
        (else any free slot). Another tenant's cache is never reused: its shorter time to first token
        would tell this one what the other had sent."""
        best, best_len = None, 0
        for slot in self._free_slots:
            cached_scope, tokens = self._cache.get(slot, ("", ()))
            if not scope or cached_scope != scope:
                continue
            n = _common_prefix(tokens, prompt)
            if n > best_len:
                best, best_len = slot, n
        if best is not None and best_len >= MIN_REUSE:
            return best, min(best_len, len(prompt) - 1)  # decode at least one token to get logits
        empty = [s for s in self._free_slots if s not in self._cache]
        return (empty[-1] if empty else next(iter(s for s in self._cache if s in self._free_slots))), 0

    def _take(self, slot: int, seq: Sequence, reuse: int) -> None:
        seq.slot = slot
        cached = self._cache.pop(slot, None)
        if reuse and llama_cpp.llama_memory_seq_rm(self._mem, slot, reuse, -1):
            seq.n_past = reuse
            self.prompt_tokens_reused += reuse
        elif cached is not None:
            llama_cpp.llama_memory_seq_rm(self._mem, slot, -1, -1)

    def _cached_cells(self, keep: int | None = None) -> int:
        return sum(len(t) for s, (_, t) in self._cache.items() if s != keep)

    def _evict(self, keep: int | None) -> bool:
        """Drop the oldest cached prompt (not `keep`); False when there is nothing left to drop."""
        victim = next((s for s in self._cache if s != keep), None)
        if victim is None:
            return False
        llama_cpp.llama_memory_seq_rm(self._mem, victim, -1, -1)
        del self._cache[victim]
        return True

    def clear_cache(self) -> None:
        """Forget every cached prompt (tests and operators; the engine never needs it)."""
        with self._cv:
            while self._evict(keep=None):
                pass

    def _reap(self) -> None:
        for seq in [s for s in self._active if s.cancelled]:
            self._release(seq)

    def _release(self, seq: Sequence) -> None:
        self._active.remove(seq)
        _free_samplers(seq)
        self._cache.pop(seq.slot, None)
        if self.prompt_cache and seq.cache_scope:
            # Keep what the slot's KV holds (positions 0..n_past-1) for a request with the same prefix and scope.
            self._cache[seq.slot] = (seq.cache_scope, (seq.prompt + seq.generated)[:seq.n_past])
        else:
            llama_cpp.llama_memory_seq_rm(self._mem, seq.slot, -1, -1)
        self._free_slots.append(seq.slot)
        self._reserved -= seq.reserve

    def _add(self, token: int, pos: int, slot: int, logits: bool) -> int:
        b = self._batch
        i = b.n_tokens
        b.token[i] = token
        b.pos[i] = pos
        b.n_seq_id[i] = 1
        b.seq_id[i][0] = slot
        b.logits[i] = logits
        b.n_tokens = i + 1
        return i

    def _step(self) -> None:
        self._batch.n_tokens = 0
        outputs: list[Sequence] = []
        for seq in self._active:
            if seq.waiting:
                continue
            if not seq.prefilling:
                seq.out_index = self._add(seq.generated[-1], seq.n_past, seq.slot, True)
                seq.n_past += 1
                outputs.append(seq)
        budget = self.batch_size - self._batch.n_tokens
        for seq in self._active:
            if seq.waiting or not seq.prefilling or budget <= 0:
                continue
            take = min(budget, len(seq.prompt) - seq.n_past)
            for k in range(take):
                pos = seq.n_past + k
                last = pos == len(seq.prompt) - 1
                idx = self._add(seq.prompt[pos], pos, seq.slot, last)
                if last:
                    seq.out_index = idx
                    outputs.append(seq)
            seq.n_past += take
            budget -= take
        rc = llama_cpp.llama_decode(self._ctx, self._batch)
        if rc != 0:
            raise ApiError(503, f"The engine could not decode this batch (llama_decode returned {rc}).",
                           "service_unavailable", "engine_error")
        forked = [(seq, child) for seq in outputs for child in seq.children if child.waiting and not seq.prefilling]
        for parent, child in forked:
            self._fork(parent, child)
            outputs.append(child)  # its first token comes from the parent's last prompt logits
        for seq in outputs:
            if not seq.cancelled:
                self._sample(seq)

    def _fork(self, parent: Sequence, child: Sequence) -> None:
        """Give a choice the prompt's KV the first choice has just read, and its last logits."""
        llama_cpp.llama_memory_seq_cp(self._mem, parent.slot, child.slot, 0, parent.n_past)
        child.n_past, child.out_index, child.waiting = parent.n_past, parent.out_index, False
        if parent.hooks:  # hooks change the logits in place: every choice must start from the same row
            parent.shared_row = child.shared_row = self._logits(parent.out_index).copy()

    def _logits(self, index: int) -> np.ndarray:
        return np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(self._ctx, index), shape=(self.n_vocab,))

    def _sample(self, seq: Sequence) -> None:
        logits = snap = None
        if seq.shared_row is not None:
            logits = self._logits(seq.out_index)
            logits[:] = seq.shared_row
            seq.shared_row = None
        if seq.sampling.logprobs:  # read before hooks and sampling: the model's own distribution
            logits = self._logits(seq.out_index) if logits is None else logits
            snap = self._logprobs.snapshot(logits, seq.sampling.top_logprobs)
        if seq.hooks:
            logits = self._logits(seq.out_index) if logits is None else logits
            context = seq.prompt + seq.generated
            for hook in seq.hooks:
                hook(context, logits)
        allowed = self._guard.allowed(seq.utf8_state) if self.utf8_guard else None
        if seq.sampler is None:
            logits = self._logits(seq.out_index) if logits is None else logits
            token = greedy(logits, seq.sampling, seq.generated, None)
            if allowed is not None and not allowed[token]:
                seq.utf8_fixes += 1
                self.utf8_resamples += 1
                token = greedy(logits, seq.sampling, seq.generated, allowed)
        elif seq.grammar_sampler is None:
            token = llama_cpp.llama_sampler_sample(seq.sampler, self._ctx, seq.out_index)
            if allowed is not None and not allowed[token]:
                # Rare: draw again among the tokens that keep the UTF-8 valid. (The chain has already
                # counted the refused token in its penalty window; one token in 64, seldom, is harmless.)
                self.utf8_resamples += 1
                seq.utf8_fixes += 1
                token = self._apply(seq.sampler, self._logits(seq.out_index), None, allowed)
                llama_cpp.llama_sampler_accept(seq.sampler, token)
        else:
            token = self._sample_with_grammar(seq, allowed)
        if seq.first_token_at is None:
            seq.first_token_at = time.perf_counter()
        self.tokens_generated += 1
        if self._on_token is not None:
            self._on_token()
        if self._eog[token]:
            self._finish(seq, "stop")
            return
        seq.generated.append(token)
        if snap is not None:
            seq.logprobs.append(self._logprobs.entry(token, snap))
        text = seq.utf8.feed(self.pieces[token])
        pending = seq.utf8.pending
        seq.utf8_state = state_of(pending) if pending else CLEAN
        text = seq.stops.feed(text)
        if seq.tools is not None:
            text = seq.tools.feed(text)
        if text:
            seq.emit(Delta(text=text, index=seq.index, logprobs=self._take_logprobs(seq)))
        if seq.stops.stopped:
            self._finish(seq, "stop")
        elif len(seq.generated) >= seq.max_new:
            self._finish(seq, "length")

    @staticmethod
    def _take_logprobs(seq: Sequence) -> list[TokenLogprob] | None:
        if not seq.logprobs:
            return None
        out, seq.logprobs = seq.logprobs, []
        return out

    def _sample_with_grammar(self, seq: Sequence, allowed: np.ndarray | None) -> int:
        logits = self._logits(seq.out_index)
        token = self._apply(seq.sampler, logits, None)
        one = self._one
        one["id"][0], one["logit"][0], one["p"][0] = token, 1.0, 0.0
        check = llama_cpp.llama_token_data_array(one.ctypes.data_as(self._data_ptr), 1, -1, False)
        llama_cpp.llama_sampler_apply(seq.grammar_sampler, ctypes.byref(check))
        if not np.isfinite(one["logit"][0]) or (allowed is not None and not allowed[token]):
            if allowed is not None and not allowed[token]:
                seq.utf8_fixes += 1
                self.utf8_resamples += 1
            token = self._apply(seq.sampler, logits, seq.grammar_sampler, allowed)  # resample within both
        llama_cpp.llama_sampler_accept(seq.grammar_sampler, token)
        llama_cpp.llama_sampler_accept(seq.sampler, token)
        return token

    def _apply(self, chain, logits: np.ndarray, grammar, allowed: np.ndarray | None = None) -> int:
        cand = self._cand
        cand["id"] = self._ids
        cand["logit"] = logits if allowed is None else np.where(allowed, logits, -np.inf)
        cand["p"] = 0.0
        arr = llama_cpp.llama_token_data_array(cand.ctypes.data_as(self._data_ptr), self.n_vocab, -1, False)
        if grammar is not None:
            llama_cpp.llama_sampler_apply(grammar, ctypes.byref(arr))
        llama_cpp.llama_sampler_apply(chain, ctypes.byref(arr))
        return int(cand["id"][arr.selected])

    def _finish(self, seq: Sequence, reason: str | None, error: BaseException | None = None) -> None:
        if seq in self._active:
            self._release(seq)
        if error is not None:
            seq.emit(error)
            return
        tail = seq.stops.feed(seq.utf8.finish()) + seq.stops.flush()
        if seq.tools is not None:
            tail = seq.tools.feed(tail) + seq.tools.flush()
        usage = Usage(prompt_tokens=len(seq.prompt), completion_tokens=len(seq.generated))
        seq.emit(Delta(text=tail, finish_reason=reason, usage=usage, index=seq.index,
                       logprobs=self._take_logprobs(seq)))


MIN_REUSE = 8  # shorter shared prefixes are not worth keeping a slot's KV for


def _common_prefix(a, b) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


def _flush(seqs: list[Sequence]) -> None:
    flushes = {seq.flush for seq in seqs if seq.flush is not None}
    for flush in flushes:
        try:
            flush()
        except Exception:  # a consumer's failure must not stop the engine thread
            log.exception("sending a step's output failed")


def _free_samplers(seq: Sequence) -> None:
    if seq.sampler:
        llama_cpp.llama_sampler_free(seq.sampler)
        seq.sampler = None
    if seq.grammar_sampler:
        llama_cpp.llama_sampler_free(seq.grammar_sampler)
        seq.grammar_sampler = None
