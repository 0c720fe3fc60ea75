"""The batch input file: OpenAI's JSONL format, checked line by line when the batch is created.

Whole-file problems refuse the batch with 400 (not UTF-8, no lines, more lines than allowed, a file
larger than allowed). A problem with one line does not: that line goes straight to the error file and
the others run. Two kinds, formatted as OpenAI formats them:

- a line that is not a request at all (not JSON, no `custom_id`, a `custom_id` used before, a `method`
  other than POST, a `url` other than the batch's endpoint, a line over the size limit): `response`
  is null and `error` holds `{code, message}`;
- a request whose body the endpoint would refuse (pydantic validation, `stream: true`): `response` holds
  `{status_code: 400, request_id: null, body: {"error": ...}}` as the API would have answered, `error`
  is null.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from jaju.errors import InvalidRequest
from jaju.protocol.chat import ChatCompletionRequest
from jaju.protocol.common import echo
from jaju.protocol.completions import TextCompletionRequest
from jaju.protocol.embeddings import EmbeddingRequest

# The endpoints a batch may target, and the request model each one's lines must satisfy.
ENDPOINTS: dict[str, type[BaseModel]] = {
    "/v1/chat/completions": ChatCompletionRequest,
    "/v1/completions": TextCompletionRequest,
    "/v1/embeddings": EmbeddingRequest,
}
MAX_CUSTOM_ID = 512


@dataclass
class Line:
    """One input line: its request body to run, or the output line it already produced (a failure)."""

    line_no: int
    custom_id: str | None
    body: dict[str, Any] | None = None
    failure: dict[str, Any] | None = None


def request_line_id() -> str:
    return "batch_req_" + secrets.token_hex(12)


def error_line(custom_id: str | None, code: str, message: str) -> dict[str, Any]:
    """An output line for a request that never reached the endpoint."""
    return {"id": request_line_id(), "custom_id": custom_id, "response": None,
            "error": {"code": code, "message": message}}


def response_line(custom_id: str | None, status: int, request_id: str | None, body: dict[str, Any]) -> dict[str, Any]:
    """An output line for a request the endpoint answered (2xx in the output file, others in the error file)."""
    return {"id": request_line_id(), "custom_id": custom_id,
            "response": {"status_code": status, "request_id": request_id, "body": body}, "error": None}


def validation_body(e: ValidationError) -> dict[str, Any]:
    """A pydantic failure as the API's 400 body."""
    first = e.errors()[0]
    param = ".".join(echo(str(p)) for p in first.get("loc", ())) or None
    msg = first.get("msg", "invalid value")
    message = f"Invalid value for '{param}': {msg}." if param else f"Invalid request body: {msg}."
    return {"error": {"message": message, "type": "invalid_request_error", "param": param, "code": "invalid_request"}}


def parse_request(endpoint: str, body: Any) -> BaseModel:
    """The endpoint's request model for a line's body (ValidationError or InvalidRequest when refused)."""
    model = ENDPOINTS[endpoint]
    if not isinstance(body, dict):
        raise InvalidRequest("body must be a JSON object.", "invalid_request", "body")
    req = model.model_validate(body)
    if getattr(req, "stream", False):
        raise InvalidRequest("stream is not supported in a batch; leave it out.", "invalid_request", "stream")
    return req


def parse(data: bytes, endpoint: str, max_lines: int, max_line_bytes: int) -> list[Line]:
    """Every line of the input file, checked; InvalidRequest (400) when the file as a whole is refused."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidRequest("The input file is not UTF-8 text.", "invalid_file", "input_file_id") from None
    raw = [(i, s) for i, s in enumerate(text.splitlines(), start=1) if s.strip()]
    if not raw:
        raise InvalidRequest("The input file has no requests.", "empty_file", "input_file_id")
    if len(raw) > max_lines:
        raise InvalidRequest(f"The input file has {len(raw):,} requests; a batch holds at most {max_lines:,}.",
                             "too_many_requests", "input_file_id")
    seen: set[str] = set()
    return [_line(no, s, endpoint, max_line_bytes, seen) for no, s in raw]


def _line(no: int, s: str, endpoint: str, max_line_bytes: int, seen: set[str]) -> Line:
    if len(s.encode("utf-8")) > max_line_bytes:
        return Line(no, None, failure=error_line(None, "line_too_large",
                                                 f"Line {no} is larger than {max_line_bytes:,} bytes."))
    try:
        item = json.loads(s)
    except json.JSONDecodeError as e:
        return Line(no, None, failure=error_line(None, "invalid_json", f"Line {no} is not valid JSON ({e.msg})."))
    if not isinstance(item, dict):
        return Line(no, None, failure=error_line(None, "invalid_json", f"Line {no} is not a JSON object."))
    cid = item.get("custom_id")
    if not isinstance(cid, str) or not cid or len(cid) > MAX_CUSTOM_ID:
        return Line(no, None, failure=error_line(None, "missing_custom_id",
                                                 f"Line {no} needs a custom_id (a string of 1 to "
                                                 f"{MAX_CUSTOM_ID} characters)."))
    if cid in seen:
        return Line(no, cid, failure=error_line(cid, "duplicate_custom_id",
                                                f"Line {no} repeats custom_id {echo(cid, 80)!r}; each must be "
                                                "unique within the batch."))
    seen.add(cid)
    if item.get("method", "POST") != "POST":
        return Line(no, cid, failure=error_line(cid, "invalid_method", f"Line {no}: method must be POST."))
    if item.get("url") != endpoint:
        return Line(no, cid, failure=error_line(cid, "invalid_url",
                                                f"Line {no}: url must be the batch's endpoint {endpoint}."))
    body = item.get("body")
    try:
        parse_request(endpoint, body)
    except ValidationError as e:
        return Line(no, cid, failure=response_line(cid, 400, None, validation_body(e)))
    except InvalidRequest as e:
        return Line(no, cid, failure=response_line(cid, 400, None, e.body()))
    return Line(no, cid, body=body)
