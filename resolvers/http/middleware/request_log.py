"""Per request: an id (kept from X-Request-ID when sane), one access log line, the HTTP metrics."""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.datastructures import MutableHeaders
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from resolvers.http import metrics
from resolvers.runtime.logs import identify_outcomes, request_id

log = logging.getLogger(__name__)

# Visible ASCII, no spaces: it goes into a response header and every log line of the request.
_SANE_REQUEST_ID = re.compile(r"[\x21-\x7e]{1,128}")


class RequestLog:
    """Outermost middleware, so that every answer is logged and counted, errors and 413s too."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        current_id = _incoming_id(scope) or uuid.uuid4().hex
        outcomes: list[str] = []
        id_token = request_id.set(current_id)
        outcomes_token = identify_outcomes.set(outcomes)
        status = 500
        done = False

        def finish() -> None:
            nonlocal done
            if not done:
                done = True
                _observe(scope, current_id, status, time.perf_counter() - started, outcomes)

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)["X-Request-ID"] = current_id
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                # Before the last byte leaves: a client holding its answer finds it in the log
                # and in /metrics.
                finish()
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            # No answer was completed: the client went away, or an error escaped.
            finish()
            identify_outcomes.reset(outcomes_token)
            request_id.reset(id_token)


def _incoming_id(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            text = value.decode("latin-1")
            # The logs never mask the id (see resolvers.runtime.logs), so it must not carry an
            # email.
            email_like = "@" in text or "%40" in text
            return text if _SANE_REQUEST_ID.fullmatch(text) and not email_like else None
    return None


def _observe(
    scope: Scope, current_id: str, status: int, seconds: float, outcomes: list[str]
) -> None:
    method: str = scope["method"]
    route = _route_template(scope)
    metrics.observe_request(method, route, status, seconds)
    fields: dict[str, object] = {
        "request_id": current_id,
        "method": method,
        "route": route,
        "status": status,
        "duration_ms": round(seconds * 1000, 2),
    }
    if outcomes:
        fields["outcome"] = ",".join(outcomes)
    log.info("%s %s %d", method, route, status, extra=fields)


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
