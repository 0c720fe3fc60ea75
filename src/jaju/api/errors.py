"""Every error leaves the API in OpenAI's shape: {"error": {"message", "type", "param", "code"}}."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from jaju.errors import ApiError, ServiceError
from jaju.protocol.common import echo
from jaju.protocol.jsonsafe import JsonRejected, check_value

log = logging.getLogger("jaju.api")

_STATUS_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
                 404: "not_found_error", 405: "invalid_request_error", 413: "invalid_request_error",
                 422: "invalid_request_error", 429: "rate_limit_error"}


def error_response(e: ServiceError) -> JSONResponse:
    return JSONResponse(e.body(), status_code=e.status, headers=e.headers)


def _validation_message(exc: RequestValidationError) -> tuple[str, str | None, str]:
    errors = exc.errors()
    # A union reports every member's failure; text that is not valid Unicode is the one to name.
    first = next((e for e in errors if e.get("type") == "string_unicode"), errors[0])
    loc = [echo(str(p)) for p in first.get("loc", ()) if p != "body"]  # dict keys are the client's text
    if first.get("type") == "json_invalid":
        return "The request body is not valid JSON (or not UTF-8).", None, "invalid_request"
    if first.get("type") == "string_unicode":
        return _unicode_message(exc, loc)
    param = ".".join(loc) or None
    msg = first.get("msg", "invalid value")
    return (f"Invalid value for '{param}': {msg}." if param else f"Invalid request body: {msg}."), param, \
        "invalid_request"


def _unicode_message(exc: RequestValidationError, loc: list[str]) -> tuple[str, str | None, str]:
    """Name the JSON path of the text that is not valid Unicode (pydantic's loc carries union tags)."""
    param = ".".join(loc) or None
    try:
        check_value(exc.body, max_depth=10_000)
    except JsonRejected as e:
        param = echo(e.path, 200) if e.path else None
    where = f"'{param}'" if param else "the request"
    return (f"Text in {where} is not valid Unicode (a lone UTF-16 surrogate such as \\ud800); "
            "send UTF-8 text."), param, "invalid_unicode"


def install(app: FastAPI) -> None:
    # The one place a domain error becomes an HTTP response (status, OpenAI type, headers).
    @app.exception_handler(ServiceError)
    async def _api_error(request: Request, exc: ServiceError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        message, param, code = _validation_message(exc)
        return error_response(ApiError(400, message, "invalid_request_error", code, param))

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else "Request failed."
        if exc.status_code == 404:
            message = f"No route {request.method} {echo(request.url.path, 120)}."
        return error_response(ApiError(exc.status_code, message, _STATUS_TYPES.get(exc.status_code, "api_error"),
                                       headers=dict(exc.headers or {})))

    # Last resort only: middleware.CleanErrors answers unexpected errors first, without dropping the
    # connection; this handler runs in Starlette's ServerErrorMiddleware, which re-raises afterwards.
    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(ApiError(500, "Internal error; the operator's log has the details.", "api_error",
                                       "internal_error"))
