"""/v1/files: upload, list, retrieve, download and delete files (`inference` scope; another tenant's id is 404)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import Response

from jaju.api.auth import Principal, require_scope
from jaju.audit import Event

router = APIRouter(prefix="/v1/files", tags=["files"])
Caller = Annotated[Principal, Depends(require_scope("inference"))]


def _files(request: Request):
    return request.app.state.services.files


def _audit(request: Request, principal: Principal, action: str, **fields) -> None:
    request.app.state.services.audit.append(Event(action=action, tenant_id=principal.tenant_id,
                                                  key_id=principal.key_id, fields=fields))


@router.post("")
def upload_file(request: Request, principal: Caller, file: Annotated[UploadFile, File()],
                purpose: Annotated[str, Form(max_length=32)]) -> dict:
    """Upload a file (purpose `batch`: a JSONL batch input); stored encrypted in the tenant's store."""
    files = _files(request)
    data = file.file.read(files.max_bytes + 1)  # one byte past the limit is enough to refuse it
    body = files.upload(principal.tenant_id, file.filename, purpose, data)
    _audit(request, principal, "file.upload", file_id=body["id"], purpose=purpose, bytes=body["bytes"])
    return body


@router.get("")
def list_files(request: Request, principal: Caller, purpose: str | None = None, limit: int = 10000,
               after: str | None = None, order: Literal["asc", "desc"] = "desc") -> dict:
    return _files(request).list(principal.tenant_id, purpose, limit, after, order)


@router.get("/{file_id}")
def retrieve_file(file_id: str, request: Request, principal: Caller) -> dict:
    return _files(request).get(principal.tenant_id, file_id)


@router.get("/{file_id}/content")
def file_content(file_id: str, request: Request, principal: Caller) -> Response:
    """The file's bytes, as uploaded (or as jaju wrote them, for batch output and error files)."""
    return Response(_files(request).content(principal.tenant_id, file_id), media_type="application/octet-stream")


@router.delete("/{file_id}")
def delete_file(file_id: str, request: Request, principal: Caller) -> dict:
    body = _files(request).delete(principal.tenant_id, file_id)
    _audit(request, principal, "file.delete", file_id=file_id)
    return body
