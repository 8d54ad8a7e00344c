"""An unexpected exception: logged once with its trace, answered 500 with the JSON error body."""

from __future__ import annotations

import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from resolvers.rest.errors import INTERNAL_ERROR, error_response

log = logging.getLogger(__name__)


class UnexpectedErrors:
    """Middleware just inside the request log (so a 500 is logged as one request): an unexpected
    exception is logged once, with its trace (the log formatter withholds its message), and
    answered 500 with the JSON error body, never with the trace."""

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
            # Not the path: it is the client's, and may hold an email. The request id leads to
            # the request's access line, which names the route's template.
            log.exception("unexpected error while serving a request")
            if not started:
                await error_response(INTERNAL_ERROR)(scope, receive, send)
