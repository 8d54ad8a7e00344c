"""API errors and the one mapping from failures to HTTP status codes and JSON error bodies."""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graphdb.errors import DatabaseUnavailable

log = logging.getLogger(__name__)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


INTERNAL_ERROR = ApiError(500, "internal_error", "An unexpected error occurred.")


def invalid_input(code: str, message: str) -> ApiError:
    return ApiError(400, code, message)


def payload_too_large(limit: int) -> ApiError:
    return ApiError(413, "payload_too_large", f"The request body is larger than {limit} bytes.")


def api_error_for(error: ApiError | DatabaseUnavailable | HTTPException) -> ApiError:
    """The answer to an expected failure; unexpected ones are UnexpectedErrors' to answer."""
    if isinstance(error, ApiError):
        return error
    if isinstance(error, DatabaseUnavailable):
        log.warning("database unavailable: %s", error)
        return ApiError(503, "database_unavailable", "The database is unavailable; retry shortly.")
    code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")
    return ApiError(error.status_code, code, str(error.detail))


def error_response(error: ApiError) -> JSONResponse:
    headers = {"Retry-After": "2"} if error.status == 503 else None
    return JSONResponse(
        {"error": {"code": error.code, "message": error.message}},
        status_code=error.status,
        headers=headers,
    )


async def handle_error(_request: Request, error: Exception) -> JSONResponse:
    # Registered for exactly these (resolvers/http/app.py); anything else goes on to
    # UnexpectedErrors.
    if not isinstance(error, ApiError | DatabaseUnavailable | HTTPException):
        raise error
    return error_response(api_error_for(error))


class UnexpectedErrors:
    """Middleware just inside the request log (so a 500 is logged as one request): an unexpected
    exception is logged once, with its trace (masked by the log formatter), and answered 500 with
    the JSON error body, never with the trace."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            log.exception("unexpected error on %s %s", scope["method"], scope["path"])
            if not started:
                await error_response(INTERNAL_ERROR)(scope, receive, send)
