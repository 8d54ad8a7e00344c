"""The JSON error answers of the HTTP API, in the legacy shape {"error": {"code", "message"}}:
raised by the REST shim, and by the HTTP app for what fails around it."""

from __future__ import annotations

from starlette.responses import JSONResponse

from graphdb.errors import DatabaseUnavailable


class ApiError(Exception):
    """An answer other than success: its status, code and message, and the headers that go with
    it (Retry-After, WWW-Authenticate) in whichever shape, REST's or GraphQL's, it is given."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


INTERNAL_ERROR = ApiError(500, "internal_error", "An unexpected error occurred.")


def invalid_input(code: str, message: str) -> ApiError:
    return ApiError(400, code, message)


def payload_too_large(limit: int) -> ApiError:
    return ApiError(413, "payload_too_large", f"The request body is larger than {limit} bytes.")


def request_timeout(seconds: float) -> ApiError:
    return ApiError(
        408, "request_timeout", f"The request body did not arrive within {seconds:g} seconds."
    )


def unsupported_media_type() -> ApiError:
    return ApiError(415, "unsupported_media_type", "Send the body as application/json.")


# Against DNS rebinding: a page whose name now points at this address sends its own name.
INVALID_HOST = ApiError(400, "invalid_host", "The Host header names no host this service serves.")


def unavailable() -> ApiError:
    return ApiError(503, DatabaseUnavailable.code, DatabaseUnavailable.answer, {"Retry-After": "2"})


def error_response(error: ApiError) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": error.code, "message": error.message}},
        status_code=error.status,
        headers=error.headers,
    )
