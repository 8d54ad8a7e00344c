"""The whole app in-process: the ASGI app with its lifespan, behind an httpx client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from asgi_lifespan import LifespanManager

from graphdb.driver import Neo4jConnection
from resolvers.http.app import create_app
from resolvers.runtime.settings import Settings


@asynccontextmanager
async def app_client(
    settings: Settings, connection: Neo4jConnection
) -> AsyncIterator[httpx.AsyncClient]:
    """The whole ASGI app, lifespan included, over an in-process HTTP transport."""
    async with (
        LifespanManager(create_app(settings, connection), startup_timeout=60) as manager,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app),
            # A name the service serves by default (ALLOWED_HOSTS), as a local client would use.
            base_url="http://127.0.0.1",
        ) as client,
    ):
        yield client


async def graphql_data(client: httpx.AsyncClient, query: str, **variables: Any) -> dict[str, Any]:
    """The data of a GraphQL query that must succeed: HTTP 200 and no errors."""
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    payload: dict[str, Any] = response.json()
    assert "errors" not in payload, payload
    data: dict[str, Any] = payload["data"]
    return data
