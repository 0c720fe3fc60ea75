"""A keyed green-list text watermark (Kirchenbauer et al., 2023) applied to logits, and its detector.

At each step the previous token seeds a keyed pseudo-random split of the vocabulary into a green
fraction `gamma` and the rest; `delta` is added to green logits. Text from the watermarked model
holds more green tokens than chance; anyone holding the key counts them and tests the excess.
Green membership is a keyed hash of (previous token, token), so detection never needs the vocabulary.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import math
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from jaju.audit.keys import DeploymentKey

_MASK64 = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_M1, _M2 = 0xBF58476D1CE4E5B9, 0x94D049BB133111EB
# Measured on the default model (docs/benchmarks.md): replies of 16 tokens were detected 16% of the
# time, so below this a negative result carries no information worth reporting.
MIN_CONCLUSIVE_TOKENS = 16


def watermark_key(key: DeploymentKey) -> bytes:
    """A secret derived from the deployment key; Ed25519 signatures are deterministic, so it is stable."""
    return hashlib.sha256(b"jaju/watermark/v1" + key.sign(b"jaju/watermark/v1")).digest()


def _mix(x: int) -> int:
    """splitmix64's finaliser on Python ints (detection side)."""
    x ^= x >> 30
    x = (x * _M1) & _MASK64
    x ^= x >> 27
    x = (x * _M2) & _MASK64
    return x ^ (x >> 31)


class GreenList:
    """Which tokens are green after a given previous token, under one key."""

    def __init__(self, key: bytes, gamma: float = 0.25):
        if not 0.0 < gamma < 1.0:
            raise ValueError("gamma must lie strictly between 0 and 1")
        if len(key) < 16:
            raise ValueError("the watermark key needs at least 16 bytes")
        self._key = key
        self.gamma = gamma
        self._threshold = int(gamma * 2.0**64)
        self._token_terms: dict[int, np.ndarray] = {}  # vocabulary size -> token ids times the golden ratio

    def seed(self, prev: int) -> int:
        """HMAC(key, previous token) as a 64-bit seed."""
        return int.from_bytes(hmac.new(self._key, prev.to_bytes(4, "big", signed=False),
                                       hashlib.sha256).digest()[:8], "big")

    def is_green(self, prev: int, token: int) -> bool:
        return _mix(self.seed(prev) ^ ((token * _GOLDEN) & _MASK64)) < self._threshold

    def mask(self, prev: int, vocab_size: int) -> np.ndarray:
        """Boolean mask over the vocabulary, the same split `is_green` gives."""
        out = np.empty(vocab_size, dtype=bool)
        self.mask_into(prev, np.empty(vocab_size, dtype=np.uint64), np.empty(vocab_size, dtype=np.uint64), out)
        return out

    def mask_into(self, prev: int, x: np.ndarray, tmp: np.ndarray, out: np.ndarray) -> None:
        """`mask` written into `out`, with `x` and `tmp` (uint64, vocabulary-sized) as scratch.

        Every step writes into a buffer it is given: the same arithmetic as `_mix` with no temporary
        arrays, which is what made the first version cost milliseconds per token.
        """
        terms = self._terms(len(out))
        np.bitwise_xor(terms, np.uint64(self.seed(prev)), out=x)
        # Array arithmetic on uint64 wraps modulo 2**64, exactly like the Python side's masking.
        for shift, factor in ((30, _M1), (27, _M2)):
            np.right_shift(x, np.uint64(shift), out=tmp)
            np.bitwise_xor(x, tmp, out=x)
            np.multiply(x, np.uint64(factor), out=x)
        if self._threshold % (1 << 33):
            np.right_shift(x, np.uint64(31), out=tmp)
            np.bitwise_xor(x, tmp, out=x)
        # else the last step (x ^= x >> 31) cannot decide the comparison: it leaves the top 33 bits as
        # they are, and a threshold that is a multiple of 2**33 (gamma 0.25, 0.5, ...) looks at no others.
        np.less(x, np.uint64(self._threshold), out=out)

    def _terms(self, vocab_size: int) -> np.ndarray:
        terms = self._token_terms.get(vocab_size)
        if terms is None:
            terms = np.arange(vocab_size, dtype=np.uint64) * np.uint64(_GOLDEN)
            self._token_terms[vocab_size] = terms
        return terms


# Bias vectors kept per (previous token, vocabulary size): 32 of Qwen's 151,936 floats are 19 MB. In
# Korean text the 32 most recent previous tokens cover about a third of the steps (measured on the
# konlpy law corpus with Qwen's tokenizer), and a kept vector costs one vectorised add.
BIAS_CACHE = 32


class WatermarkHook:
    """A `jaju.engine.base.LogitsHook`: adds `delta` to the green logits in place.

    Per token it adds one precomputed vector (`delta` where green, 0 elsewhere) to the logits; the
    vector comes from a small cache keyed by the previous token, or is hashed afresh into per-thread
    buffers. The logits come out as they did when the hook indexed the green mask (x + 0.0 is x).
    """

    SPEC_KIND = "green-list-v1"

    def __init__(self, green: GreenList, delta: float = 2.0, cache_size: int = BIAS_CACHE):
        self.green = green
        self.delta = np.float32(delta)
        self._cache: OrderedDict[tuple[int, int], np.ndarray] = OrderedDict()
        self._cache_size = cache_size
        # Engines of several models may run the same hook on their own threads.
        self._lock = threading.Lock()
        self._scratch = threading.local()

    def spec(self) -> dict:
        """A description an engine in another process rebuilds the same hook from (`from_spec`)."""
        return {"kind": self.SPEC_KIND, "key": self.green._key, "gamma": self.green.gamma, "delta": float(self.delta)}

    @classmethod
    def from_spec(cls, spec: dict) -> WatermarkHook:
        return cls(GreenList(spec["key"], spec["gamma"]), spec["delta"])

    def __call__(self, token_ids: list[int], logits: np.ndarray) -> None:
        if not token_ids:
            return  # nothing precedes the first token of an empty context, so nothing seeds the split
        np.add(logits, self.bias(int(token_ids[-1]), logits.shape[-1]), out=logits)

    def bias(self, prev: int, vocab_size: int) -> np.ndarray:
        """`delta` on the tokens that are green after `prev`, 0.0 elsewhere (float32; do not modify)."""
        key = (prev, vocab_size)
        with self._lock:
            vector = self._cache.get(key)
            if vector is not None:
                self._cache.move_to_end(key)
                return vector
        x, tmp, mask = self._buffers(vocab_size)
        self.green.mask_into(prev, x, tmp, mask)
        vector = np.multiply(mask, self.delta, dtype=np.float32)
        with self._lock:
            self._cache[key] = vector
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return vector

    def _buffers(self, vocab_size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        buffers = getattr(self._scratch, "buffers", None)
        if buffers is None or len(buffers[2]) != vocab_size:
            buffers = (np.empty(vocab_size, dtype=np.uint64), np.empty(vocab_size, dtype=np.uint64),
                       np.empty(vocab_size, dtype=bool))
            self._scratch.buffers = buffers
        return buffers


@dataclass(frozen=True, slots=True)
class Detection:
    """The evidence for a watermark in one text."""

    tokens_scored: int
    green: int
    gamma: float
    z: float
    p_value: float  # one-sided, exact binomial tail P(X >= green) under "no watermark"
    detected: bool  # p_value at most the normal tail of z_threshold (exact, so short texts are not overstated)
    z_threshold: float
    note: str

    def to_dict(self) -> dict:
        return asdict(self)


def binomial_tail(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p), summed in log space so long texts do not underflow."""
    if k <= 0:
        return 1.0
    if k > n:
        return 0.0
    lp, lq = math.log(p), math.log1p(-p)
    terms = [math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * lp + (n - i) * lq
             for i in range(k, n + 1)]
    top = max(terms)
    return min(1.0, math.exp(top) * math.fsum(math.exp(t - top) for t in terms))


def score_tokens(green: GreenList, token_ids: list[int], z_threshold: float = 4.0,
                 ignore_repeated: bool = True) -> Detection:
    """Count green tokens; repeated (previous, token) pairs count once, so repetition cannot fake a mark."""
    pairs = list(itertools.pairwise(token_ids))
    if ignore_repeated:
        pairs = list(dict.fromkeys(pairs))
    n = len(pairs)
    hits = sum(green.is_green(a, b) for a, b in pairs)
    g = green.gamma
    z = (hits - g * n) / math.sqrt(n * g * (1 - g)) if n else 0.0
    p = binomial_tail(hits, n, g) if n else 1.0
    note = "" if n >= MIN_CONCLUSIVE_TOKENS else (
        f"only {n} tokens scored: too short to show a watermark reliably; absence here proves nothing")
    # The z-score's normal approximation overstates significance for short texts (6 green tokens out
    # of 6 give z = 4.2 but p = 2.4e-4), so the decision uses the exact tail at the same level.
    detected = n > 0 and p <= 0.5 * math.erfc(z_threshold / math.sqrt(2))
    return Detection(n, hits, g, round(z, 4), p, detected, z_threshold, note)


class WatermarkDetector:
    """Detects the watermark in text, given the model's tokenizer."""

    def __init__(self, green: GreenList, tokenize: Callable[[str], list[int]], z_threshold: float = 4.0):
        self.green = green
        self.tokenize = tokenize
        self.z_threshold = z_threshold

    def detect(self, text: str | None = None, token_ids: list[int] | None = None) -> Detection:
        """Score text (tokenised with the model's tokenizer) or token ids directly."""
        if (text is None) == (token_ids is None):
            raise ValueError("give exactly one of text or token_ids")
        ids = token_ids if token_ids is not None else self.tokenize(text or "")
        return score_tokens(self.green, list(ids), self.z_threshold)
