"""POST /v1/korean/summarize and /v1/korean/segment (`inference` scope): thin translation to the services."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import unquote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from jaju.api.auth import Principal, require_scope
from jaju.context import RequestOptions
from jaju.errors import ServiceError
from jaju.protocol.korean import SegmentRequest, SummarizeRequest, segmentation_body, summary_body

router = APIRouter(prefix="/v1/korean", tags=["korean"])
Inference = Annotated[Principal, Depends(require_scope("inference"))]


def _context(request: Request, principal: Principal, prefix: str, span: str):
    """Rate limit, then the request's context; X-Jaju-Subject names the data subject (percent-encoded)."""
    services = request.app.state.services
    services.ratelimit.check(principal.key_id)
    header = request.headers.get("x-jaju-subject")
    options = RequestOptions(subject=unquote(header) if header else None)
    return services, services.context(principal, prefix, options, span, getattr(request.state, "auth_ns", None))


def _headers(ctx, extra: dict[str, str] | None = None) -> dict[str, str]:
    headers = {"X-Request-ID": ctx.request_id, **(extra or {})}
    if ctx.span.trace_id:
        headers["X-Jaju-Trace-ID"] = ctx.span.trace_id
    return headers


@router.post("/summarize")
async def summarize(body: SummarizeRequest, request: Request, principal: Inference) -> JSONResponse:
    """Summarise a document of any length (map-reduce over chunks with the served model); labelled like chat."""
    services, ctx = _context(request, principal, "sum", "korean.summarize")
    try:
        s = await services.summaries.summarize(ctx, body)
    except ServiceError as e:
        ctx.span.end(e.status)
        raise
    ctx.span.end(200)
    return JSONResponse(summary_body(ctx.request_id, s.model, s.text, s.finish_reason, s.prompt_tokens,
                                     s.completion_tokens, s.extension), headers=_headers(ctx, s.headers))


@router.post("/segment")
async def segment(body: SegmentRequest, request: Request, principal: Inference) -> JSONResponse:
    """Cut a document into topic paragraphs (Kiwi sentences, e5 vectors; no generation)."""
    services, ctx = _context(request, principal, "seg", "korean.segment")
    try:
        result = await services.segmenter.segment(ctx, body)
    except ServiceError as e:
        ctx.span.end(e.status)
        raise
    ctx.span.end(200)
    return JSONResponse(segmentation_body(ctx.request_id, result.model, result.paragraphs, result.tokens,
                                          result.extension), headers=_headers(ctx))
