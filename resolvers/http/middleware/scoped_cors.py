"""CORS with two grants: Neo4j Browser's origins on the Browser guide's routes, the API's own
(closed by default) everywhere else."""

from __future__ import annotations

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from resolvers.http.browser_guide import PREFIX


class ScopedCors:
    """CORS for the Browser's routes under PREFIX, and the API's own CORS for the rest.

    Starlette's CORSMiddleware answers preflights itself, so two of them cannot be nested: the
    outer one would refuse the Browser's origin before the inner one saw it.
    """

    def __init__(
        self, app: ASGIApp, api_origins: tuple[str, ...], browser_origins: tuple[str, ...]
    ) -> None:
        self.api = CORSMiddleware(
            app,
            allow_origins=list(api_origins),
            allow_methods=["GET", "POST"],
            # authorization: browser apps send their API key (AUTH on).
            allow_headers=["content-type", "authorization"],
            max_age=600,
        )
        # Browser sends `pragma` and `cache-control` when it fetches a guide.
        self.browser = CORSMiddleware(
            app,
            allow_origins=list(browser_origins),
            allow_methods=["GET"],
            allow_headers=["cache-control", "pragma"],
            max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(PREFIX):
            await self.browser(scope, receive, send)
        else:
            await self.api(scope, receive, send)
