"""What every GraphQL resolver gets: the request, its sub-response, and the repository."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from strawberry.asgi import GraphQL

from graphdb.repository import ContactRepository
from resolvers.web_assets.server import GRAPHIQL, local_graphiql_page


@dataclass
class RequestContext:
    request: Request
    response: Response
    repository: ContactRepository


class GraphQLApp(GraphQL[RequestContext, None]):
    """Strawberry's ASGI app; the repository comes from the Starlette lifespan state."""

    async def get_context(self, request: Request, response: Response) -> RequestContext:  # type: ignore[override]
        return RequestContext(request, response, request.state.repository)

    async def render_graphql_ide(self, request: Request) -> Response:
        if not GRAPHIQL.installed():
            # No npm at set-up: the page as strawberry ships it, with its scripts from the CDN.
            return await super().render_graphql_ide(request)
        return HTMLResponse(local_graphiql_page(self.graphql_ide_html or ""))
