"""POST /v1/rerank in the shape vLLM, Cohere and Jina use; jaju's additions sit under `jaju`."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, StrictBool, field_validator

from jaju.protocol.common import WireModel
from jaju.rerank.service import MAX_DOCUMENTS, RerankResult


class TextDocument(WireModel):
    text: str


class RerankRequest(WireModel):
    model: Annotated[str, Field(min_length=1, max_length=200)]
    query: Annotated[str, Field(min_length=1)]
    documents: Annotated[list[str | TextDocument], Field(min_length=1, max_length=MAX_DOCUMENTS)]
    top_n: int | None = Field(None, ge=1)
    return_documents: StrictBool = True

    @field_validator("query")
    @classmethod
    def _query(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("query must not be blank")
        return v

    @property
    def texts(self) -> list[str]:
        return [d if isinstance(d, str) else d.text for d in self.documents]


def rerank_body(rid: str, result: RerankResult, texts: list[str], return_documents: bool) -> dict[str, Any]:
    results = []
    for r in result.results:
        item: dict[str, Any] = {"index": r.index, "relevance_score": r.relevance_score}
        if return_documents:
            item["document"] = {"text": texts[r.index]}
        results.append(item)
    return {"id": rid, "model": result.model, "results": results,
            "usage": {"prompt_tokens": result.tokens, "total_tokens": result.tokens},
            "jaju": {"scorer": result.scorer, "backend": result.backend}}
