"""POST /v1/moderations: OpenAI's request and response, with jaju's Korean categories under `jaju`."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from jaju.protocol.common import WireModel, new_id

MAX_INPUTS = 128
MAX_CHARS = 32_000  # per text; longer texts should be split by the caller (a clear 400 says so)
# OpenAI's model names are accepted so existing clients work unchanged; all are served by the same classifier.
MODEL_ALIASES = ("jaju-moderation-ko", "omni-moderation-latest", "omni-moderation-2024-09-26",
                 "text-moderation-latest", "text-moderation-stable")


class TextPart(WireModel):
    """OpenAI's multi-modal input item; only text is moderated here."""

    type: Literal["text"]
    text: str


class ModerationRequest(WireModel):
    input: str | list[str] | list[TextPart]
    model: str | None = Field(None, min_length=1, max_length=200)

    @field_validator("input")
    @classmethod
    def _inputs(cls, v: str | list[str] | list[TextPart]) -> str | list[str] | list[TextPart]:
        items = [v] if isinstance(v, str) else v
        if not items:
            raise ValueError("input must not be empty")
        if len(items) > MAX_INPUTS:
            raise ValueError(f"at most {MAX_INPUTS} inputs per request")
        for i, item in enumerate(items):
            text = item if isinstance(item, str) else item.text
            if len(text) > MAX_CHARS:
                raise ValueError(f"input {i} has {len(text)} characters; at most {MAX_CHARS} per text "
                                 f"(split longer texts into several inputs)")
        return v

    @property
    def texts(self) -> list[str]:
        items = [self.input] if isinstance(self.input, str) else self.input
        return [item if isinstance(item, str) else item.text for item in items]


def moderation_body(model: str, results: list[dict[str, Any]]) -> dict[str, Any]:
    return {"id": new_id("modr"), "model": model, "results": results}
