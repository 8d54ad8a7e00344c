"""Per request: an id (kept from X-Request-ID when safe), one access log line, the HTTP metrics.
The line names the route's template, never the path or query string, which are the client's."""

from __future__ import annotations

import re
import uuid

from starlette.routing import BaseRoute, Match
from starlette.types import Scope

from resolvers.http import metrics
from resolvers.runtime.logs import log_access

# The id goes into a response header and, as it is, into every log line of the request (it must
# be searchable as the client sent it), so it is admitted only when it cannot carry an email or a
# phone number in any form the service accepts: letters, digits and `. _ : -` only (no @ or %, so
# no email, plain or URL-encoded; no +, brackets or spaces), and a letter among them (so not
# 555-010-0199 or 73519). Digits beside a letter stay possible (order-5550100199): what a client
# writes into its own ids is its choice, and UUIDs must pass.
_SAFE_REQUEST_ID = re.compile(r"(?=[^A-Za-z]*[A-Za-z])[A-Za-z0-9._:-]{1,128}")
# A method is any token a client sends (`73519` is one to h11 and httptools); the log line and the
# metrics name the standard ones and OTHER for the rest.
_METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"}
)


def request_id_of(incoming: bytes | None) -> str:
    """The client's X-Request-ID when it is safe to log, else one of our own."""
    if incoming is not None:
        text = incoming.decode("latin-1")
        if _SAFE_REQUEST_ID.fullmatch(text):
            return text
    return uuid.uuid4().hex


def observe(
    scope: Scope,
    request_id: str,
    status: int,
    seconds: float,
    *,
    outcomes: list[str],
    hashes: list[str],
) -> None:
    """The request's metrics and its one access line."""
    method: str = scope["method"] if scope["method"] in _METHODS else "OTHER"
    route = _route_template(scope)
    metrics.observe_request(method, route, status, seconds)
    fields: dict[str, object] = {
        "request_id": request_id,
        "method": method,
        "route": route,
        "status": status,
        "duration_ms": round(seconds * 1000, 2),
    }
    if outcomes:
        fields["outcome"] = ",".join(outcomes)
    caller = scope.get("state", {}).get("caller")
    if caller is not None and caller.name is not None:
        # Which API key made it (AUTH on): key names are chosen by operators, never secrets.
        fields["key"] = caller.name
    if hashes:
        # Keyed hashes of the identified emails and phones: `identity log-hash VALUE` gives the
        # one to grep for.
        fields["identifiers"] = hashes
    log_access(__name__, f"{method} {route} {status}", fields)


def _route_template(scope: Scope) -> str:
    """The route's template, so that paths such as /graphql-assets/{name:path} count as one, and
    paths matching no route as `unmatched` (a scanner cannot grow the metrics without bound)."""
    # Starlette's router records the route it chose (a partial match: 405 on that route).
    chosen: BaseRoute | None = scope.get("route")
    if chosen is not None:
        return str(getattr(chosen, "path", "unmatched"))
    # Answered before routing (a CORS preflight, a body over the limit): match here.
    routes: list[BaseRoute] = scope["app"].routes
    partial: BaseRoute | None = None
    for route in routes:
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return str(getattr(route, "path", "unmatched"))
        if match is Match.PARTIAL and partial is None:
            partial = route
    # A partial match is the right path with another method: 405 on that route.
    return "unmatched" if partial is None else str(getattr(partial, "path", "unmatched"))
