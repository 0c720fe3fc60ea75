"""ResponsesService: a Responses request runs as a chat request through InferenceService.

So every safeguard of the chat path applies unchanged (quota, the tenant's law, PII protection and
restoration, residency routing, watermark, label and signed manifest, usage, the durable audit record,
here under the action "responses"). A remote engine that serves /v1/responses itself is sent the
prepared request in that form (`responses=True`, `ResidencyRouter.respond`); the steps are the same.
This service adds what the Responses API has and chat has not:
stored responses continued with `previous_response_id`, typed streaming events (`stream.py`), and
background runs (an asyncio task in this process; cancel stops it).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from jaju.context import RequestContext
from jaju.errors import InvalidRequest, ServiceError
from jaju.inference import Generation, InferenceService, Reply
from jaju.protocol import responses as wire
from jaju.protocol.common import now
from jaju.protocol.responses import ResponsesRequest
from jaju.responses.run import Run, result
from jaju.responses.store import RUNNING, ResponseStore
from jaju.responses.stream import events

log = logging.getLogger("jaju.responses")
ACTION = "responses"


class ResponsesService:
    def __init__(self, inference: InferenceService, store: ResponseStore):
        self.inference = inference
        self.store = store
        self._tasks: dict[str, asyncio.Task] = {}  # background runs in this process

    # --- create -------------------------------------------------------------------------------
    async def plan(self, ctx: RequestContext, req: ResponsesRequest) -> Run:
        """Check and translate the request; nothing runs or is written yet."""
        if req.background and not req.store:
            raise InvalidRequest("background mode needs store: true (the result is kept for retrieval).",
                                 "invalid_request", "background")
        if req.background and req.stream:
            raise InvalidRequest("Streaming a background response is not supported here; poll GET "
                                 "/v1/responses/{id} instead.", "unsupported_parameter", "stream")
        history: list[dict[str, Any]] = []
        if req.previous_response_id:
            prev = await asyncio.to_thread(self.store.get, ctx.tenant_id, req.previous_response_id)
            if prev["status"] in RUNNING:
                raise InvalidRequest("The previous response has not finished yet.", "response_in_progress",
                                     "previous_response_id")
            history = prev["context"] + prev["input"] + prev["output"]
        items = req.input_items()
        rid = "resp_" + ctx.request_id.split("-", 1)[-1]
        return Run(ctx, req, rid, now(), req.echo_fields(), history, items, req.to_chat(history, items))

    async def create(self, ctx: RequestContext, run: Run) -> Reply:
        if run.req.background:
            return await self._start_background(run)
        gen = await self.inference.start_chat(ctx, run.chat, ACTION, responses=True)
        if run.req.stream:
            return Reply(stream=events(run, gen, self.settle, self.inference.finish), headers=gen.label.headers())
        await self.inference.collect(gen)
        body = await self.settle(run, gen)
        return Reply(body=body, headers=gen.label.headers())

    async def settle(self, run: Run, gen: Generation, message_id: str | None = None) -> dict[str, Any]:
        """A finished generation: its Response body, kept if asked, then metered and durably audited."""
        status, run.output, incomplete = result(gen, message_id)
        ext = gen.response_extension()
        body = run.body(status, usage_=wire.usage(gen.prompt_tokens, gen.completion_tokens),
                        incomplete=incomplete, jaju=ext)
        try:
            if run.req.store:
                await self._keep(run, gen, body)
        except ServiceError as e:
            await self.inference.finish(gen, e.status)
            raise
        await self.inference.finish(gen, 200)
        return body

    async def _keep(self, run: Run, gen: Generation, body: dict[str, Any]) -> None:
        record = await asyncio.to_thread(self._record, run, gen, body)
        subject = run.ctx.options.subject
        if run.req.background:
            await asyncio.to_thread(self.store.settle, run.ctx.tenant_id, run.id, body["status"], subject, record)
        else:
            await asyncio.to_thread(self.store.keep, run.ctx.tenant_id, run.id, run.req.model, body["status"],
                                    subject, record)

    def _record(self, run: Run, gen: Generation | None, body: dict[str, Any]) -> dict[str, Any]:
        """What is kept: the conversation and the body, new text handled for the `storage` purpose."""
        items, output = _copy(run.items), _copy(body["output"])
        if gen is not None:
            _protect(gen, items + output)
        return {"created_at": run.created_at, "model": run.req.model, "fields": run.fields,
                "context": run.history, "input": items, "output": output, "usage": body.get("usage"),
                "error": body.get("error"), "incomplete_details": body.get("incomplete_details"),
                "jaju": body.get("jaju")}

    # --- background ---------------------------------------------------------------------------
    async def _start_background(self, run: Run) -> Reply:
        queued = run.body("queued")
        record = self._record(run, None, queued)
        record["input"] = []  # not kept in the clear before the safeguards have handled it
        await asyncio.to_thread(self.store.keep, run.ctx.tenant_id, run.id, run.req.model, "queued",
                                run.ctx.options.subject, record)
        task = asyncio.create_task(self._background(run), name=f"jaju-response-{run.id}")
        self._tasks[run.id] = task
        task.add_done_callback(lambda _t: self._tasks.pop(run.id, None))
        return Reply(body=queued)

    async def _background(self, run: Run) -> None:
        ctx, gen = run.ctx, None
        try:
            await asyncio.to_thread(self.store.mark, ctx.tenant_id, run.id, "in_progress")
            gen = await self.inference.start_chat(ctx, run.chat, ACTION, responses=True)
            await self.inference.collect(gen)
            await self.settle(run, gen)
        except asyncio.CancelledError:
            if gen is not None:
                await self.inference.finish(gen, "cancelled")
            raise
        except ServiceError as e:
            await self._failed(run, "server_error" if e.status >= 500 else "invalid_prompt", e.message)
        except Exception:  # a bug must not leave the response "in_progress" for ever; it is logged in full
            log.exception("background response %s failed", run.id)
            if gen is not None:
                await self.inference.finish(gen, 500)
            await self._failed(run, "server_error", "The response failed on the server.")

    async def _failed(self, run: Run, code: str, message: str) -> None:
        body = run.body("failed", output=[], error={"code": code, "message": message})
        await asyncio.to_thread(self.store.settle, run.ctx.tenant_id, run.id, "failed", run.ctx.options.subject,
                                self._record(run, None, body) | {"input": []})

    async def cancel(self, tenant_id: str, rid: str) -> dict[str, Any]:
        stored = await self.retrieve(tenant_id, rid)
        if not stored["background"]:
            raise InvalidRequest("Only a background response can be cancelled.", "not_background", "response_id")
        if stored["status"] in RUNNING:
            await asyncio.to_thread(self.store.mark, tenant_id, rid, "cancelled")
            task = self._tasks.get(rid)
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        return await self.retrieve(tenant_id, rid)

    async def aclose(self) -> None:
        """Stop the background runs of this process (on shutdown); their rows say cancelled."""
        for task in list(self._tasks.values()):
            task.cancel()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)

    # --- read and delete ----------------------------------------------------------------------
    async def retrieve(self, tenant_id: str, rid: str) -> dict[str, Any]:
        rec = await asyncio.to_thread(self.store.get, tenant_id, rid)
        output = rec["output"] if rec["status"] not in RUNNING else []
        return wire.response_body(rid, rec["created_at"], rec["status"], rec["model"], rec["fields"], output,
                                  usage_=rec.get("usage"), error=rec.get("error"),
                                  incomplete=rec.get("incomplete_details"), jaju=rec.get("jaju"))

    async def delete(self, tenant_id: str, rid: str) -> dict[str, Any]:
        task = self._tasks.get(rid)
        await asyncio.to_thread(self.store.delete, tenant_id, rid)
        if task is not None:
            task.cancel()
        return {"id": rid, "object": "response.deleted", "deleted": True}

    async def input_items(self, tenant_id: str, rid: str, limit: int = 20, order: str = "desc",
                          after: str | None = None) -> dict[str, Any]:
        rec = await asyncio.to_thread(self.store.get, tenant_id, rid)
        items = rec["input"] if order == "asc" else list(reversed(rec["input"]))
        if after is not None:
            ids = [i["id"] for i in items]
            if after not in ids:
                raise InvalidRequest(f"No input item '{after[:80]}' in this response.", "invalid_cursor", "after")
            items = items[ids.index(after) + 1:]
        page = items[:limit]
        return {"object": "list", "data": page, "first_id": page[0]["id"] if page else None,
                "last_id": page[-1]["id"] if page else None, "has_more": len(items) > limit}


def _copy(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: ([dict(p) for p in v] if k == "content" else v) for k, v in item.items()} for item in items]


def _protect(gen: Generation, items: list[dict[str, Any]]) -> None:
    """Every text in `items` handled for storage in one pass of the request's privacy session."""
    slots: list[tuple[dict[str, Any], str]] = []
    for item in items:
        if item["type"] == "message":
            slots += [(part, "text") for part in item["content"]]
        elif item["type"] == "function_call":
            slots.append((item, "arguments"))
        elif item["type"] == "function_call_output":
            slots.append((item, "output"))
    if not slots:
        return
    texts = [holder[key] for holder, key in slots]
    stored, last = gen.guard.for_storage([{"role": "user", "content": t} for t in texts[:-1]], texts[-1])
    for (holder, key), text in zip(slots, [m["content"] for m in stored] + [last], strict=True):
        holder[key] = text

