"""The Starlette application: routes, middleware, error handlers and the Neo4j lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypedDict

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route

from graphdb.driver import Neo4jConnection
from graphdb.errors import DatabaseUnavailable
from graphdb.repository import ContactRepository
from resolvers.api_docs import docs_asset_endpoint, docs_endpoint
from resolvers.body_limit import BodySizeLimit
from resolvers.browser_guide import ScopedCors, browser_origins, guide_endpoint, style_endpoint
from resolvers.connection import build_repository
from resolvers.context import GraphQLApp
from resolvers.errors import ApiError, UnexpectedErrors, handle_error
from resolvers.graphiql_assets import asset_endpoint
from resolvers.health import healthz, readyz
from resolvers.metrics import Neo4jMetrics, metrics_endpoint
from resolvers.openapi import openapi_endpoint
from resolvers.request_log import RequestLog
from resolvers.rest import identify_endpoint
from resolvers.settings import Settings
from schema.root import GraphQLLimits, build_schema

log = logging.getLogger(__name__)


class State(TypedDict):
    repository: ContactRepository


def create_app(settings: Settings, connection: Neo4jConnection) -> Starlette:
    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[State]:
        driver, repository = build_repository(settings, connection, Neo4jMetrics())
        try:
            try:
                await repository.prepare()
            except DatabaseUnavailable as error:
                # Serve anyway: requests answer 503 until Neo4j is back, then the schema is made.
                log.warning("Neo4j not reachable at start-up (%s); will retry per request", error)
            yield {"repository": repository}
        finally:
            await repository.close()
            await driver.close()

    limits = GraphQLLimits(
        max_depth=settings.graphql_max_depth,
        max_aliases=settings.graphql_max_aliases,
        max_tokens=settings.graphql_max_tokens,
        introspection=settings.graphql_introspection,
    )
    graphql = GraphQLApp(build_schema(limits), graphql_ide="graphiql")
    return Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            Route("/identify", identify_endpoint, methods=["POST"]),
            Route("/openapi.json", openapi_endpoint, methods=["GET"]),
            Route("/graphql-assets/{name:path}", asset_endpoint, methods=["GET"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/metrics", metrics_endpoint, methods=["GET"]),
            Route("/docs", docs_endpoint, methods=["GET"]),
            Route("/docs-assets/{name:path}", docs_asset_endpoint, methods=["GET"]),
            Route("/neo4j-browser/guide.html", guide_endpoint, methods=["GET"]),
            Route("/neo4j-browser/identity.grass", style_endpoint, methods=["GET"]),
        ],
        middleware=[
            Middleware(RequestLog),
            Middleware(UnexpectedErrors),
            Middleware(
                ScopedCors,
                api_origins=settings.cors_allow_origins,
                browser_origins=browser_origins(settings),
            ),
            Middleware(BodySizeLimit, max_bytes=settings.max_body_bytes),
        ],
        exception_handlers={
            ApiError: handle_error,
            DatabaseUnavailable: handle_error,
            404: handle_error,
            405: handle_error,
        },
        lifespan=lifespan,
    )
