"""Privacy routes (`privacy` scope): Presidio-like analyze and anonymize, data-subject export and erasure."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import Field

from jaju.api.auth import Principal, require_scope
from jaju.errors import bad_request
from jaju.privacy.analyzer import LANGUAGES
from jaju.privacy.recognizer import RecognizerResult
from jaju.protocol.common import WireModel, echo

router = APIRouter(prefix="/v1/privacy", tags=["privacy"])
require_privacy = require_scope("privacy")
Caller = Annotated[Principal, Depends(require_privacy)]
MAX_TEXT = 1_000_000


class AnalyzeRequest(WireModel):
    """Presidio's /analyze body (the fields jaju uses)."""

    text: str = Field(max_length=MAX_TEXT)
    language: str = "ko"
    entities: list[str] | None = None
    score_threshold: float | None = Field(None, ge=0.0, le=1.0)


class AnalyzerResult(WireModel):
    entity_type: str
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    score: float = 1.0
    recognizer: str = ""


class OperatorConfig(WireModel):
    """Presidio's operator config: `replace` is jaju's `redact`; `pseudonymize` gives [PERSON_1] tokens."""

    type: Literal["redact", "replace", "mask", "hash", "pseudonymize", "surrogate", "keep", "allow"] = "redact"
    new_value: str | None = None
    masking_char: str = Field("*", min_length=1, max_length=1)


class AnonymizeRequest(WireModel):
    """Presidio's /anonymize body; without analyzer_results jaju analyzes the text itself."""

    text: str = Field(max_length=MAX_TEXT)
    language: str = "ko"
    anonymizers: dict[str, OperatorConfig] = {}
    analyzer_results: list[AnalyzerResult] | None = None


class AnonymizedItem(WireModel):
    start: int
    end: int
    entity_type: str
    text: str
    operator: str


class AnonymizeResponse(WireModel):
    text: str
    items: list[AnonymizedItem]


def _services(request: Request):
    return request.app.state.services


def _language(lang: str) -> str:
    if lang not in LANGUAGES:
        raise bad_request(f"Unsupported language '{echo(lang, 16)}'; use one of {', '.join(LANGUAGES)}.", "language")
    return lang


@router.post("/analyze", response_model=list[AnalyzerResult])
def analyze(body: AnalyzeRequest, request: Request, principal: Caller) -> list[dict]:
    results = _services(request).privacy.analyze(body.text, _language(body.language), body.entities,
                                                 body.score_threshold)
    return [r.to_dict() for r in results]


@router.post("/anonymize", response_model=AnonymizeResponse)
def anonymize(body: AnonymizeRequest, request: Request, principal: Caller) -> dict:
    privacy = _services(request).privacy
    results = None
    if body.analyzer_results is not None:
        results = []
        for r in body.analyzer_results:
            if r.end > len(body.text) or r.start >= r.end:
                raise bad_request(f"analyzer_results span {r.start}-{r.end} is outside the text.", "analyzer_results")
            results.append(RecognizerResult(r.entity_type, r.start, r.end, r.score, r.recognizer))
        results.sort(key=lambda x: x.start)
        if any(a.end > b.start for a, b in zip(results, results[1:])):
            raise bad_request("analyzer_results overlap; send non-overlapping spans.", "analyzer_results")
    operators = {k: {"type": _op(v.type), "new_value": v.new_value, "masking_char": v.masking_char}
                 for k, v in body.anonymizers.items()}
    text, items = privacy.anonymize(body.text, operators, tenant_id=principal.tenant_id, analyzer_results=results,
                                    language=_language(body.language))
    return {"text": text, "items": items}


def _op(name: str) -> str:
    return {"replace": "redact", "keep": "allow"}.get(name, name)


@router.get("/subjects/{subject}/export")
def export_subject(subject: str, request: Request, principal: Caller) -> dict:
    """Everything stored about the subject in this tenant, as structured JSON (GDPR Art. 20, PIPA Art. 35)."""
    return _services(request).subjects.export(principal.tenant_id, subject, key_id=principal.key_id)


@router.delete("/subjects/{subject}")
def erase_subject(subject: str, request: Request, principal: Caller) -> dict:
    """Erase the subject everywhere it is stored and destroy the subject's key (GDPR Art. 17)."""
    return _services(request).subjects.erase(principal.tenant_id, subject, key_id=principal.key_id)
