"""Knowledge-base routes (`knowledge` scope): bases, document uploads, search; tenant-scoped, 404 not 403."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from pydantic import Field

from jaju.api.auth import Principal, require_scope
from jaju.audit.events import Event
from jaju.errors import ApiError, bad_request, not_found
from jaju.knowledge.errors import KnowledgeConflict, KnowledgeError, KnowledgeNotFound
from jaju.protocol import jsonsafe
from jaju.protocol.common import WireModel, echo

router = APIRouter(prefix="/v1/knowledge-bases", tags=["knowledge"])
Caller = Annotated[Principal, Depends(require_scope("knowledge"))]


class CreateKnowledgeBase(WireModel):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=2000)


class SearchFilters(WireModel):
    document_ids: list[str] | None = None
    formats: list[str] | None = None
    labels: dict[str, str | int | float | bool | list[str | int | float | bool]] | None = None


class SearchRequest(WireModel):
    query: str = Field(min_length=1, max_length=4000)
    top_k: int | None = Field(None, ge=1, le=100)
    mode: Literal["hybrid", "bm25", "dense"] = "hybrid"
    filters: SearchFilters | None = None


@contextmanager
def _translated() -> Iterator[None]:
    """Knowledge errors in OpenAI's shape; a missing id and another tenant's id look the same."""
    try:
        yield
    except KnowledgeNotFound as e:
        raise not_found(str(e)) from None
    except KnowledgeConflict as e:
        raise ApiError(409, str(e), "invalid_request_error", "conflict") from None
    except KnowledgeError as e:
        raise bad_request(str(e)) from None


def _svc(request: Request):
    return request.app.state.services.knowledge


def _audit(request: Request, principal: Principal, action: str, **fields) -> None:
    request.app.state.services.audit.append(Event(action=action, tenant_id=principal.tenant_id,
                                                  key_id=principal.key_id, fields=fields))


@router.post("", status_code=201)
def create_knowledge_base(body: CreateKnowledgeBase, request: Request, principal: Caller) -> dict:
    with _translated():
        kb = _svc(request).create_kb(principal.tenant_id, body.name, body.description)
    _audit(request, principal, "knowledge.base.create", kb_id=kb.id)
    return kb.to_dict()


@router.get("")
def list_knowledge_bases(request: Request, principal: Caller) -> dict:
    return {"object": "list", "data": [kb.to_dict() for kb in _svc(request).list_kbs(principal.tenant_id)]}


@router.get("/{kb_id}")
def get_knowledge_base(kb_id: str, request: Request, principal: Caller) -> dict:
    with _translated():
        return _svc(request).get_kb(principal.tenant_id, kb_id).to_dict()


@router.delete("/{kb_id}")
def delete_knowledge_base(kb_id: str, request: Request, principal: Caller) -> dict:
    with _translated():
        _svc(request).delete_kb(principal.tenant_id, kb_id)
    _audit(request, principal, "knowledge.base.delete", kb_id=kb_id)
    return {"id": kb_id, "object": "knowledge_base.deleted", "deleted": True}


@router.post("/{kb_id}/documents")
def upload_documents(kb_id: str, request: Request, principal: Caller,
                     files: Annotated[list[UploadFile], File(description="One or more documents")],
                     subject: Annotated[str | None, Form(max_length=200)] = None,
                     labels: Annotated[str | None, Form(description="JSON object of labels")] = None) -> dict:
    """Ingest each file on its own; the response says per file whether it was stored or why not."""
    svc = _svc(request)
    if len(files) > svc.settings.max_files_per_upload:
        raise bad_request(f"At most {svc.settings.max_files_per_upload} files per upload.", "files")
    try:
        parsed_labels = jsonsafe.loads(labels, max_depth=8, max_chars=64 * 1024) if labels else None
    except jsonsafe.JsonRejected as e:
        where = f"labels.{echo(e.path)}" if e.path else "labels"
        raise bad_request(f"labels {e.message}; send a JSON object such as {{\"부서\": \"복지과\"}}.",
                          where) from None
    if parsed_labels is not None and not isinstance(parsed_labels, dict):
        raise bad_request("labels must be a JSON object.", "labels")
    limit = svc.settings.max_file_bytes
    with _translated():
        # Read at most one byte past the limit so the service reports the oversize file by name.
        batch = [(f.filename or "upload", f.file.read(limit + 1)) for f in files]
        policy = request.app.state.services.law(principal.tenant_id).privacy  # screens filenames for PII
        results = svc.add_documents(principal.tenant_id, kb_id, batch, subject=subject, labels=parsed_labels,
                                    policy=policy)
    for r in results:
        if r.ok:
            _audit(request, principal, "knowledge.document.add", kb_id=kb_id, document_id=r.document["id"],
                   sha256=r.document["sha256"], bytes=r.document["bytes"], subject_tagged=subject is not None)
    return {"object": "list", "data": [r.to_dict() for r in results],
            "succeeded": sum(r.ok for r in results), "failed": sum(not r.ok for r in results)}


@router.get("/{kb_id}/documents")
def list_documents(kb_id: str, request: Request, principal: Caller) -> dict:
    with _translated():
        return {"object": "list", "data": _svc(request).list_documents(principal.tenant_id, kb_id)}


@router.get("/{kb_id}/documents/{doc_id}")
def get_document(kb_id: str, doc_id: str, request: Request, principal: Caller) -> dict:
    with _translated():
        return _svc(request).get_document(principal.tenant_id, kb_id, doc_id)


@router.delete("/{kb_id}/documents/{doc_id}")
def delete_document(kb_id: str, doc_id: str, request: Request, principal: Caller) -> dict:
    with _translated():
        _svc(request).delete_document(principal.tenant_id, kb_id, doc_id)
    _audit(request, principal, "knowledge.document.delete", kb_id=kb_id, document_id=doc_id)
    return {"id": doc_id, "object": "knowledge_document.deleted", "deleted": True}


@router.post("/{kb_id}/search")
def search(kb_id: str, body: SearchRequest, request: Request, principal: Caller) -> dict:
    filters = body.filters.model_dump(exclude_none=True) if body.filters else None
    with _translated():
        hits = _svc(request).search(principal.tenant_id, [kb_id], body.query, top_k=body.top_k,
                                    mode=body.mode, filters=filters)
    return {"object": "list", "data": [{"object": "knowledge_chunk", **h.to_dict()} for h in hits]}
