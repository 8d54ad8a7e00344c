"""The one mapping from expected failures to HTTP status codes and JSON error bodies (their shape
is resolvers/rest/errors.py; unexpected failures: middleware/unexpected_errors.py)."""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse

from graphdb.errors import DatabaseUnavailable
from resolvers.rest.errors import ApiError, error_response, unavailable

log = logging.getLogger(__name__)


def api_error_for(error: ApiError | DatabaseUnavailable | HTTPException) -> ApiError:
    """The answer to an expected failure; unexpected ones are UnexpectedErrors' to answer."""
    if isinstance(error, ApiError):
        return error
    if isinstance(error, DatabaseUnavailable):
        log.warning("database unavailable: %s", error)
        return unavailable()
    code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")
    return ApiError(error.status_code, code, str(error.detail))


async def handle_error(_request: Request, error: Exception) -> JSONResponse:
    # Registered for exactly these (resolvers/http/app.py); anything else goes on to
    # UnexpectedErrors.
    if not isinstance(error, ApiError | DatabaseUnavailable | HTTPException):
        raise error
    return error_response(api_error_for(error))
