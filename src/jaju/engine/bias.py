"""OpenAI's `logit_bias` as a logits hook the engine applies at each step (in-process or in the engine process)."""

from __future__ import annotations

import numpy as np


class LogitBiasHook:
    """A logits hook adding the bias; -100 and 100 act as ban and force, as in OpenAI's description.

    Portable: an API worker sends `spec()` to the engine process, which rebuilds it with `from_spec`.
    """

    SPEC_KIND = "logit-bias-v1"

    def __init__(self, bias: dict[str, int]):
        self.bias = {str(int(t)): int(v) for t, v in bias.items()}
        self._ids = np.array([int(t) for t in self.bias], dtype=np.int64)
        self._values = np.array(list(self.bias.values()), dtype=np.float32)

    def spec(self) -> dict:
        return {"kind": self.SPEC_KIND, "bias": self.bias}

    @classmethod
    def from_spec(cls, spec: dict) -> LogitBiasHook:
        return cls(spec["bias"])

    def __call__(self, tokens: list[int], logits: np.ndarray) -> None:
        inside = self._ids < logits.shape[-1]  # check_logit_bias refused the others; never index past the end
        logits[self._ids[inside]] += self._values[inside]
