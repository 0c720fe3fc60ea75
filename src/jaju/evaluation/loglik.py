"""Log-likelihood scoring on a local GGUF: the sum of each choice's token log-probabilities after the prompt.

Opens its own llama.cpp context (one sequence), separate from the serving engine, so an evaluation never
competes with live traffic for slots. The prompt is read once per question; each choice is read after it
and then dropped from the KV cache, so a question costs one prompt plus its short continuations.
"""

from __future__ import annotations

import ctypes
import os

import llama_cpp
import numpy as np

from jaju.errors import ModelError
from jaju.evaluation.dataset import Question


def _quiet(level, text, user_data):  # llama.cpp's log callback: keep the console for the progress bar
    return None


_QUIET = llama_cpp.llama_log_callback(_quiet)


class LoglikScorer:
    """Scores questions by exact log-likelihood from llama.cpp's logits (needs the model file)."""

    method = "loglik"

    def __init__(self, gguf_path: str, *, threads: int = 2, n_ctx: int = 2048, batch: int = 512):
        llama_cpp.llama_backend_init()
        if os.environ.get("JAJU_LLAMA_VERBOSE") != "1":
            llama_cpp.llama_log_set(_QUIET, ctypes.c_void_p(0))
        mparams = llama_cpp.llama_model_default_params()
        if os.environ.get("JAJU_LLAMA_EXTRA_BUFTS") != "1":
            mparams.use_extra_bufts = False  # AMX weight layouts crash on these machines (see engine/llama.py)
        self._model = llama_cpp.llama_model_load_from_file(str(gguf_path).encode(), mparams)
        if not self._model:
            raise ModelError(f"llama.cpp could not load {gguf_path}; is it a GGUF file?")
        cparams = llama_cpp.llama_context_default_params()
        cparams.n_ctx = n_ctx
        cparams.n_batch = cparams.n_ubatch = batch
        cparams.n_seq_max = 1
        cparams.n_threads = cparams.n_threads_batch = threads
        cparams.no_perf = True
        self._ctx = llama_cpp.llama_init_from_model(self._model, cparams)
        if not self._ctx:
            llama_cpp.llama_model_free(self._model)
            raise ModelError(f"llama.cpp could not create a context of {n_ctx} tokens for {gguf_path}.")
        self._vocab = llama_cpp.llama_model_get_vocab(self._model)
        self._mem = llama_cpp.llama_get_memory(self._ctx)
        self.n_vocab = llama_cpp.llama_vocab_n_tokens(self._vocab)
        self.n_ctx, self.batch = n_ctx, batch
        self._batch = llama_cpp.llama_batch_init(batch, 0, 1)

    def close(self) -> None:
        if self._ctx:
            llama_cpp.llama_batch_free(self._batch)
            llama_cpp.llama_free(self._ctx)
            llama_cpp.llama_model_free(self._model)
            self._ctx = self._model = None

    def __enter__(self) -> LoglikScorer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def tokenize(self, text: str, add_bos: bool) -> list[int]:
        data = text.encode("utf-8")
        cap = len(data) + 16
        buf = (llama_cpp.llama_token * cap)()
        n = llama_cpp.llama_tokenize(self._vocab, data, len(data), buf, cap, add_bos, False)
        if n < 0:
            raise ModelError(f"Could not tokenize a prompt of {len(data)} bytes.")
        return list(buf[:n])

    def _decode(self, tokens: list[int], start: int, want_logits: bool) -> np.ndarray | None:
        """Read tokens at positions start..; returns their log-softmax rows (one per token) if asked."""
        rows = []
        for off in range(0, len(tokens), self.batch):
            chunk = tokens[off:off + self.batch]
            b = self._batch
            b.n_tokens = len(chunk)
            for i, tok in enumerate(chunk):
                b.token[i], b.pos[i], b.n_seq_id[i] = tok, start + off + i, 1
                b.seq_id[i][0] = 0
                b.logits[i] = want_logits or (off + i == len(tokens) - 1)
            rc = llama_cpp.llama_decode(self._ctx, b)
            if rc != 0:
                raise ModelError(f"llama_decode failed ({rc}) on a prompt of {start + len(tokens)} tokens.")
            if want_logits:
                for i in range(len(chunk)):
                    rows.append(self._logprobs(i))
        if not want_logits:
            return self._logprobs((len(tokens) - 1) % self.batch)[None, :]
        return np.stack(rows)

    def _logprobs(self, index: int) -> np.ndarray:
        logits = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(self._ctx, index),
                                       shape=(self.n_vocab,)).astype(np.float64)
        top = logits.max()
        return logits - top - np.log(np.exp(logits - top).sum())

    def reset(self) -> None:
        """Forget everything read so far."""
        llama_cpp.llama_memory_clear(self._mem, True)

    def read(self, tokens: list[int], start: int = 0) -> np.ndarray:
        """Log-softmax rows for every token read from position `start` on (row i predicts token i + 1)."""
        return self._decode(tokens, start, want_logits=True)

    def choice_logprobs(self, q: Question) -> list[float]:
        """Sum of log P(continuation token | prompt, earlier continuation tokens) for each choice."""
        prompt = self.tokenize(q.prompt, add_bos=bool(llama_cpp.llama_vocab_get_add_bos(self._vocab)))
        conts = [self.tokenize(c, add_bos=False) for c in q.continuations]
        longest = max(len(c) for c in conts)
        if len(prompt) + longest > self.n_ctx:
            raise ModelError(f"Question {q.id} needs {len(prompt) + longest} tokens; the scorer's context is "
                             f"{self.n_ctx} (raise --context).")
        self.reset()
        first = self._decode(prompt, 0, want_logits=False)[0]  # predicts each continuation's first token
        scores = []
        for cont in conts:
            total = float(first[cont[0]])
            if len(cont) > 1:
                rows = self._decode(cont[:-1], len(prompt), want_logits=True)
                total += float(sum(rows[i][cont[i + 1]] for i in range(len(cont) - 1)))
                llama_cpp.llama_memory_seq_rm(self._mem, 0, len(prompt), -1)
            scores.append(total)
        return scores

    def predict(self, q: Question) -> tuple[int, list[float]]:
        scores = self.choice_logprobs(q)
        return int(np.argmax(scores)), scores
