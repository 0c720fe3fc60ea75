"""POST /v1/korean/summarize and /v1/korean/segment (`inference` scope): thin translation to the services."""

from __future__ import annotations

from fastapi import APIRouter, Request

from jaju.api.openai import Inference, _auth, _limited, _options, _reply
from jaju.inference import Reply
from jaju.protocol.korean import SegmentRequest, SummarizeRequest, segmentation_body, summary_body

router = APIRouter(prefix="/v1/korean", tags=["korean"])


@router.post("/summarize")
async def summarize(body: SummarizeRequest, request: Request, principal: Inference):
    """Summarise a document of any length (map-reduce over chunks with the served model); labelled like chat."""
    services = _limited(request, principal)
    ctx = services.context(principal, "sum", _options(request, None), "korean.summarize", _auth(request))

    async def run() -> Reply:
        s = await services.summaries.summarize(ctx, body)
        return Reply(body=summary_body(ctx.request_id, s.model, s.text, s.finish_reason, s.prompt_tokens,
                                       s.completion_tokens, s.extension), headers=s.headers)

    return await _reply(ctx, run())


@router.post("/segment")
async def segment(body: SegmentRequest, request: Request, principal: Inference):
    """Cut a document into topic paragraphs (Kiwi sentences, e5 vectors; no generation)."""
    services = _limited(request, principal)
    ctx = services.context(principal, "seg", _options(request, None), "korean.segment", _auth(request))

    async def run() -> Reply:
        r = await services.segmenter.segment(ctx, body)
        return Reply(body=segmentation_body(ctx.request_id, r.model, r.paragraphs, r.tokens, r.extension))

    return await _reply(ctx, run())
