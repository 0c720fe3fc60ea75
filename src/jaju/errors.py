"""Errors that carry a message a user can act on.

Domain code raises `ServiceError` subclasses that name what went wrong (not found, unavailable, refused
by policy...) with a message, a machine-readable `code` and the offending `param`. Only the API edge
(`jaju.api.errors`) turns one into an HTTP response, with OpenAI's error shape; the CLI prints the
message. Each class's `status` is the HTTP status the edge uses, kept beside the class so the mapping
lives in one place.
"""

from __future__ import annotations


class JajuError(Exception):
    """Base class for errors jaju reports to a person (CLI) or client (API)."""


class ConfigError(JajuError):
    """The configuration is wrong; the message says which value and how to fix it."""


class ModelError(JajuError):
    """A model is missing, corrupt or unknown; the message says what to do."""


class ServiceError(JajuError):
    """A request cannot be served as asked."""

    status = 400
    type = "invalid_request_error"
    default_code: str | None = None

    def __init__(self, message: str, code: str | None = None, param: str | None = None, *,
                 retry_after: int | None = None):
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.param = param
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)} if self.retry_after is not None else {}

    def body(self) -> dict:
        """OpenAI's error shape."""
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}


class InvalidRequest(ServiceError):
    status, type = 400, "invalid_request_error"


class Unauthenticated(ServiceError):
    status, type, default_code = 401, "authentication_error", "invalid_api_key"


class Forbidden(ServiceError):
    status, type = 403, "permission_error"


class NotFound(ServiceError):
    status, type, default_code = 404, "invalid_request_error", "not_found"


class TooLarge(ServiceError):
    status, type = 413, "invalid_request_error"


class Refused(ServiceError):
    """The tenant's policy refuses the content (e.g. an identifier whose action is `block`)."""

    status, type = 422, "invalid_request_error"


class RateLimited(ServiceError):
    status, type, default_code = 429, "rate_limit_error", "rate_limited"


class QuotaExceeded(ServiceError):
    status, type, default_code = 429, "insufficient_quota", "quota_exceeded"


class UpstreamFailed(ServiceError):
    """An upstream engine answered with something that is not a valid reply."""

    status, type, default_code = 502, "api_error", "upstream_invalid_response"


class Unavailable(ServiceError):
    status, type, default_code = 503, "service_unavailable", "service_unavailable"


class UpstreamTimeout(ServiceError):
    status, type, default_code = 504, "api_error", "upstream_timeout"


class ApiError(ServiceError):
    """An error with an explicit HTTP status and OpenAI type (older call sites; prefer the classes above)."""

    def __init__(self, status: int, message: str, type_: str = "invalid_request_error",
                 code: str | None = None, param: str | None = None, headers: dict | None = None):
        super().__init__(message, code, param)
        self.status = status
        self.type = type_
        self._headers = headers or {}

    @property
    def headers(self) -> dict[str, str]:
        return self._headers


def bad_request(message: str, param: str | None = None, code: str | None = None) -> ServiceError:
    return InvalidRequest(message, code, param)


def not_found(message: str, code: str = "not_found", param: str | None = None) -> ServiceError:
    return NotFound(message, code, param)


def unavailable(message: str, code: str = "service_unavailable") -> ServiceError:
    return Unavailable(message, code)
