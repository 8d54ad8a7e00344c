"""The whole app in-process: the ASGI app with its lifespan, behind an httpx client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

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
