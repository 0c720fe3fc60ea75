"""POST /v1/korean/summarize and /v1/korean/segment: request models and response bodies.

The concepts follow CLOVA Studio's summarisation and segmentation tools (texts in, a summary or topic
paragraphs out; `autoSentenceSplitter`, `segMaxSize`, `segMinSize`, `alpha`, `segCnt`,
`postProcess*`), spelled in OpenAI's way: snake_case, `model`, `input`, `max_tokens`, `usage`, and
errors in OpenAI's shape naming the field. Both endpoints are jaju's own, so every field is jaju's;
docs/korean.md maps each one to its CLOVA counterpart.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, StrictBool, ValidationInfo, field_validator

from jaju.protocol.common import WireModel, now, usage_dict

MAX_INPUTS = 64  # parts of one document (CLOVA's `texts`)


def _nonempty(v: str | list[str]) -> str | list[str]:
    items = [v] if isinstance(v, str) else v
    if not items:
        raise ValueError("input must hold at least one text")
    if len(items) > MAX_INPUTS:
        raise ValueError(f"at most {MAX_INPUTS} texts per request (they are parts of one document)")
    for i, item in enumerate(items):
        if not item.strip():
            where = "input" if isinstance(v, str) else f"input[{i}]"
            raise ValueError(f"{where} is empty; send the text to work on")
    if not "".join(items).strip():
        raise ValueError("input is empty; send the text to work on")
    return v


class SummarizeRequest(WireModel):
    """A long document in, one summary out (map-reduce over chunks that fit the model's context)."""

    # The chat model that writes the summary; the deployment's default model when left out.
    model: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    # The document, or its parts in order (CLOVA's `texts`), each read from a new line.
    input: str | list[str]
    # Length of the summary, and of each chunk's intermediate summary.
    max_tokens: int = Field(256, ge=16, le=2048)
    temperature: float | None = Field(None, ge=0.0, le=2.0)
    # Extra guidance for the summary in the caller's words (e.g. "세 문장으로"), added to the instruction.
    instructions: Annotated[str, Field(max_length=2000)] | None = None
    # CLOVA's autoSentenceSplitter: false summarises each text of `input` as one chunk (each must fit).
    split: StrictBool = True
    # CLOVA's segMaxSize: at most this many characters per chunk (the model's context bounds it anyway).
    chunk_max_chars: int | None = Field(None, ge=50, le=1_000_000)
    # CLOVA's segMinSize: a last chunk shorter than this joins the one before it where that still fits.
    chunk_min_chars: int = Field(0, ge=0, le=1_000_000)

    @field_validator("input")
    @classmethod
    def _input(cls, v: str | list[str]) -> str | list[str]:
        return _nonempty(v)

    @field_validator("chunk_min_chars")
    @classmethod
    def _min_below_max(cls, v: int, info: ValidationInfo) -> int:
        top = info.data.get("chunk_max_chars")
        if top is not None and v > top:
            raise ValueError(f"chunk_min_chars ({v}) must not exceed chunk_max_chars ({top})")
        return v

    @property
    def texts(self) -> list[str]:
        return [self.input] if isinstance(self.input, str) else list(self.input)


class SegmentRequest(WireModel):
    """A document in, its topic paragraphs out (Kiwi sentences, e5 vectors, TextTiling; no generation)."""

    # Only the embedding model segments; accepted so a client may name it.
    model: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    input: str  # CLOVA's `text`
    # CLOVA's alpha: larger gives more paragraphs. The depth cut-off is mean - (0.5 + alpha) * std.
    alpha: float = Field(0.0, ge=-1.5, le=1.5)
    # CLOVA's segCnt: exactly this many breaks (the deepest topic shifts) instead of the cut-off.
    count: int | None = Field(None, ge=1, le=10_000)
    window: int = Field(2, ge=1, le=20)  # sentences compared on each side of a gap
    min_sentences: int = Field(2, ge=1, le=100)  # sentences a paragraph holds at least
    # CLOVA's postProcess*: merge paragraphs shorter than the minimum, split longer than the maximum
    # (at sentence boundaries; a single sentence longer than the maximum stays whole).
    post_process: StrictBool = False
    post_process_max_chars: int = Field(1000, ge=1, le=1_000_000)
    post_process_min_chars: int = Field(300, ge=0, le=1_000_000)

    @field_validator("input")
    @classmethod
    def _input(cls, v: str) -> str:
        return _nonempty(v)

    @field_validator("post_process_min_chars")
    @classmethod
    def _min_below_max(cls, v: int, info: ValidationInfo) -> int:
        top = info.data.get("post_process_max_chars")
        if top is not None and v > top:
            raise ValueError(f"post_process_min_chars ({v}) must not exceed post_process_max_chars ({top})")
        return v


def summary_body(rid: str, model: str, summary: str, finish_reason: str, prompt_tokens: int,
                 completion_tokens: int, jaju: dict[str, Any]) -> dict[str, Any]:
    return {"id": rid, "object": "korean.summary", "created": now(), "model": model, "summary": summary,
            "finish_reason": finish_reason, "usage": usage_dict(prompt_tokens, completion_tokens), "jaju": jaju}


def segmentation_body(rid: str, model: str, paragraphs: list[tuple[int, int, str, int]], tokens: int,
                      jaju: dict[str, Any]) -> dict[str, Any]:
    """`paragraphs`: (start, end, text, sentences); start/end are character offsets into `input`."""
    return {"id": rid, "object": "korean.segmentation", "created": now(), "model": model,
            "paragraphs": [{"index": i, "text": text, "start": start, "end": end, "sentences": n}
                           for i, (start, end, text, n) in enumerate(paragraphs)],
            "usage": usage_dict(tokens, 0), "jaju": jaju}
