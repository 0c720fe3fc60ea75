"""`logit_bias` (chat and completions): token id -> bias in [-100, 100], as OpenAI takes it.

The wire model checks the shape. Whether each id exists depends on the model's vocabulary, which only
the backend knows: `check_logit_bias` runs once the backend is chosen, and `logit_bias_hook` applies
the bias in an engine that takes logits hooks.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StrictInt

from jaju.engine.base import LogitsHook
from jaju.engine.bias import LogitBiasHook
from jaju.errors import bad_request

MAX_ENTRIES = 1024

TokenId = Annotated[str, Field(pattern=r"^[0-9]{1,10}$")]
LogitBias = Annotated[dict[TokenId, Annotated[StrictInt, Field(ge=-100, le=100)]],
                      Field(max_length=MAX_ENTRIES)]


def check_logit_bias(bias: dict[str, int] | None, n_vocab: int) -> None:
    """400 naming the first token id the model does not have."""
    for token in bias or {}:
        if int(token) >= n_vocab:
            raise bad_request(f"logit_bias names token id {int(token)}, but this model's vocabulary has "
                              f"{n_vocab} tokens (ids 0 to {n_vocab - 1}).", "logit_bias", "invalid_logit_bias")


def logit_bias_hook(bias: dict[str, int]) -> LogitsHook:
    """The hook applying OpenAI's `logit_bias` (token id -> bias) to each step's logits."""
    return LogitBiasHook(bias)
