"""What every GraphQL resolver gets: the request, its sub-response, and the repository."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from strawberry.asgi import GraphQL

from graphdb.repository import ContactRepository


@dataclass
class RequestContext:
    request: Request
    response: Response
    repository: ContactRepository


class GraphQLApp(GraphQL[RequestContext, None]):
    """Strawberry's ASGI app; the repository comes from the Starlette lifespan state."""

    async def get_context(self, request: Request, response: Response) -> RequestContext:  # type: ignore[override]
        return RequestContext(request, response, request.state.repository)
