"""GraphQL over HTTP as this service takes it: a POST with a JSON body (GET serves only the
GraphiQL page), and every refusal in the GraphQL response shape,
`{"data": null, "errors": [{"message": ..., "extensions": {"code": ...}}]}`.

Both rules are about what a browser can be made to send. A query in a URL lands in proxy logs
and browser history with its emails and phones. A body of a type a form can send (text/plain,
form data, none at all) needs no CORS preflight, so a page in a victim's browser could post it
to a service on their machine; application/json always needs one.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import JSONResponse

JSON = "application/json"

# Strawberry's own refusals (a batch, a body that is not JSON, ...) come with a status only.
_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    415: "unsupported_media_type",
}


def error_response(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    # "data": null, as Strawberry answers a document that fails validation, and as the
    # authentication middleware answers: a client reads every refusal of /graphql the same way.
    return JSONResponse(
        {"data": None, "errors": [{"message": message, "extensions": {"code": code}}]},
        status_code=status,
        headers=headers,
    )


def http_error_response(status: int, message: str) -> JSONResponse:
    return error_response(status, _CODES.get(status, "http_error"), message)


def refusal(request: Request, *, page_request: bool) -> JSONResponse | None:
    """The answer to a request /graphql does not take, or None to go on with it. A page request
    (a GET for HTML) goes on: to GraphiQL, or to a 404 where GraphiQL is not served."""
    if request.method == "GET" and page_request:
        return None
    if request.method != "POST":
        return error_response(
            405,
            "method_not_allowed",
            "Send GraphQL as a POST with a JSON body; queries in URLs end up in logs.",
            headers={"Allow": "POST"},
        )
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != JSON:
        return error_response(415, "unsupported_media_type", "Send the body as application/json.")
    return None
