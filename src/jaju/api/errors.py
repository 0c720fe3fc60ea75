"""Every error leaves the API in OpenAI's shape: {"error": {"message", "type", "param", "code"}}."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from jaju.errors import ApiError, ServiceError

log = logging.getLogger("jaju.api")

_STATUS_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
                 404: "not_found_error", 405: "invalid_request_error", 413: "invalid_request_error",
                 422: "invalid_request_error", 429: "rate_limit_error"}


def error_response(e: ServiceError) -> JSONResponse:
    return JSONResponse(e.body(), status_code=e.status, headers=e.headers)


def _validation_message(exc: RequestValidationError) -> tuple[str, str | None]:
    first = exc.errors()[0]
    loc = [str(p) for p in first.get("loc", ()) if p != "body"]
    if first.get("type") == "json_invalid":
        return "The request body is not valid JSON (or not UTF-8).", None
    param = ".".join(loc) or None
    msg = first.get("msg", "invalid value")
    return (f"Invalid value for '{param}': {msg}." if param else f"Invalid request body: {msg}."), param


def install(app: FastAPI) -> None:
    # The one place a domain error becomes an HTTP response (status, OpenAI type, headers).
    @app.exception_handler(ServiceError)
    async def _api_error(request: Request, exc: ServiceError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        message, param = _validation_message(exc)
        return error_response(ApiError(400, message, "invalid_request_error", "invalid_request", param))

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else "Request failed."
        if exc.status_code == 404:
            message = f"No route {request.method} {request.url.path}."
        return error_response(ApiError(exc.status_code, message, _STATUS_TYPES.get(exc.status_code, "api_error"),
                                       headers=dict(exc.headers or {})))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(ApiError(500, "Internal error; the operator's log has the details.", "api_error",
                                       "internal_error"))
