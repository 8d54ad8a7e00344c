"""What every GraphQL resolver gets: the request, its sub-response, and the repository."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

import orjson
from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import Receive, Send
from starlette.types import Scope as AsgiScope
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from graphdb.repository import ContactRepository
from resolvers.core.access import Caller, Scope
from resolvers.core.identifiers import IdentifierRules
from resolvers.graphql.ledger_feed import LedgerFeed
from resolvers.graphql.transport import http_error_response, refusal
from resolvers.runtime import json_body
from resolvers.web_assets.server import GRAPHIQL, local_graphiql_page


class RateCharge(Protocol):
    """The keys' rate limits (resolvers.http.rate_limits), as GraphQL charges them."""

    def retry_after(self, caller: Caller, cost: int = 1) -> int | None: ...


@dataclass
class RequestContext:
    request: Request | WebSocket
    response: Response | None
    repository: ContactRepository
    rules: IdentifierRules
    # Set by the authentication middleware; everyone, with every scope, while auth is off.
    caller: Caller
    # The ledger followed live, for subscriptions.
    feed: LedgerFeed
    # The keys' rate limits the gateway counts requests in (resolvers.graphql.root_fields).
    rate_limits: RateCharge | None = None

    def allows(self, scope: str) -> bool:
        return Scope(scope) in self.caller.scopes

    def refuse(self, status: int) -> None:
        """Answer with this HTTP status unless a graver one is already set (503 over 403).
        A subscription's messages have no status: its errors say it all."""
        if self.response is not None:
            self.response.status_code = max(self.response.status_code or 200, status)


# A way to answer some requests without the executor (resolvers.graphql.planned_identify), or
# None to leave the request to it.
Planned = Callable[["GraphQLApp", Request], Awaitable[Response | None]]


class GraphQLApp(GraphQL[RequestContext, None]):
    """Strawberry's ASGI app; the repository comes from the Starlette lifespan state. It answers
    every request to /graphql, refusals included, in the GraphQL shape (resolvers.graphql.
    transport). `planned` answers what it can first."""

    planned: Planned | None = None

    async def __call__(self, scope: AsgiScope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive)
        page_request = self.should_render_graphql_ide(self.request_adapter_class(request))
        response: Response | None = refusal(request, page_request=page_request)
        if response is None and self.planned is not None and request.method == "POST":
            response = await self.planned(self, request)
        if response is None:
            try:
                response = await self.run(request)
            except HTTPException as error:
                # Strawberry's refusals (cross_web comes with it); it would answer them in
                # plain text, and GraphQL clients read JSON errors.
                response = http_error_response(error.status_code, error.reason)
        await response(scope, receive, send)

    def decode_json(self, data: str | bytes) -> object:
        return json_body.loads(data)

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    async def get_context(  # type: ignore[override]
        self, request: Request | WebSocket, response: Response | None
    ) -> RequestContext:
        state = request.state
        return RequestContext(
            request,
            response,
            state.repository,
            state.rules,
            state.caller,
            state.feed,
            getattr(state, "rate_limits", None),
        )

    async def render_graphql_ide(self, request: Request) -> Response:
        if not GRAPHIQL.installed():
            # No npm at set-up: the page as strawberry ships it, with its scripts from the CDN.
            return await super().render_graphql_ide(request)
        return HTMLResponse(local_graphiql_page(self.graphql_ide_html or ""))
