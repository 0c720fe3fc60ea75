"""POST /v1/tokenize: count tokens for a model (like CLOVA Studio's token calculator)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from jaju.protocol.chat import Message
from jaju.protocol.common import WireModel


class TokenizeRequest(WireModel):
    model: Annotated[str, Field(min_length=1, max_length=200)]
    text: str | None = None
    messages: list[Message] | None = None

    @model_validator(mode="after")
    def _one_of(self) -> TokenizeRequest:
        if (self.text is None) == (self.messages is None):
            raise ValueError("give exactly one of text or messages")
        return self
