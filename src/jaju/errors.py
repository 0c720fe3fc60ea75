"""Errors that carry a message a user can act on."""


class JajuError(Exception):
    """Base class for errors jaju reports to a person (CLI) or client (API)."""


class ConfigError(JajuError):
    """The configuration is wrong; the message says which value and how to fix it."""


class ModelError(JajuError):
    """A model is missing, corrupt or unknown; the message says what to do."""


class ApiError(JajuError):
    """An error with an HTTP status and OpenAI's error type and code."""

    def __init__(self, status: int, message: str, type_: str = "invalid_request_error",
                 code: str | None = None, param: str | None = None, headers: dict | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type_
        self.code = code
        self.param = param
        self.headers = headers or {}

    def body(self) -> dict:
        """OpenAI's error shape."""
        return {"error": {"message": self.message, "type": self.type,
                          "param": self.param, "code": self.code}}


def bad_request(message: str, param: str | None = None, code: str | None = None) -> ApiError:
    return ApiError(400, message, "invalid_request_error", code, param)


def not_found(message: str, code: str = "not_found", param: str | None = None) -> ApiError:
    return ApiError(404, message, "invalid_request_error", code, param)


def unavailable(message: str, code: str = "service_unavailable") -> ApiError:
    return ApiError(503, message, "service_unavailable", code)
