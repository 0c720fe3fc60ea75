"""Log-probabilities of sampled tokens, from the raw logits of their position (only when asked for)."""

from __future__ import annotations

import numpy as np

from jaju.engine.base import TokenLogprob, TopLogprob


def token_text(piece: bytes) -> str:
    """A token's text; a fragment of a UTF-8 character is spelt `bytes:\\xNN` as OpenAI does."""
    try:
        return piece.decode("utf-8")
    except UnicodeDecodeError:
        return "bytes:" + "".join(f"\\x{b:02x}" for b in piece)


class LogprobReader:
    """Log-softmax over a position's logits, the sampled token's entry and the top alternatives."""

    def __init__(self, pieces: list[bytes]):
        self._pieces = pieces

    def snapshot(self, logits: np.ndarray, top: int) -> tuple[np.ndarray, float, np.ndarray]:
        """What must be read before sampling changes nothing: (logits copy, log-sum-exp, top ids)."""
        raw = np.array(logits, dtype=np.float32, copy=True)
        peak = float(raw.max())
        lse = peak + float(np.log(np.exp(raw - peak, dtype=np.float32).sum(dtype=np.float64)))
        ids = np.empty(0, dtype=np.int64)
        if top:
            ids = np.argpartition(raw, -top)[-top:]
            ids = ids[np.argsort(-raw[ids], kind="stable")]
        return raw, lse, ids

    def entry(self, token: int, snap: tuple[np.ndarray, float, np.ndarray]) -> TokenLogprob:
        raw, lse, ids = snap
        piece = self._pieces[token]
        tops = [TopLogprob(token_text(self._pieces[i]), list(self._pieces[i]), min(0.0, float(raw[i]) - lse))
                for i in ids.tolist()]
        return TokenLogprob(token_text(piece), list(piece), min(0.0, float(raw[token]) - lse), tops)
