"""The Starlette application: routes, middleware, error handlers and the Neo4j lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypedDict

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route, WebSocketRoute
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from graphdb.api_keys import ApiKeyStore
from graphdb.driver import Neo4jConnection
from graphdb.errors import DatabaseUnavailable
from graphdb.outbox import Outbox
from graphdb.repository import ContactRepository
from graphdb.store_sizes import StoreSizes
from resolvers.core.access import Authenticator
from resolvers.core.identifiers import IdentifierRules
from resolvers.graphql.app import GraphQLApp
from resolvers.graphql.ledger_feed import LedgerFeed
from resolvers.graphql.planned_identify import PlannedIdentify
from resolvers.graphql.schema import GraphQLLimits, build_schema
from resolvers.http.api_docs import docs_endpoint
from resolvers.http.browser_guide import PREFIX as BROWSER_GUIDE_PREFIX
from resolvers.http.browser_guide import browser_origins, guide_endpoint, style_endpoint
from resolvers.http.errors import handle_error
from resolvers.http.health import Readiness, healthz, readyz
from resolvers.http.metrics import (
    Neo4jMetrics,
    WebhookMetrics,
    metrics_endpoint,
    observe_store_sizes,
)
from resolvers.http.middleware.authentication import Admission
from resolvers.http.middleware.body_limit import BodyLimit
from resolvers.http.middleware.gateway import Gateway
from resolvers.http.middleware.sockets import Sockets
from resolvers.http.middleware.trusted_hosts import HostCheck
from resolvers.http.rate_limits import RateLimits
from resolvers.rest.errors import ApiError
from resolvers.rest.identify import IdentifyEndpoint
from resolvers.rest.openapi import openapi_endpoint
from resolvers.runtime.settings import Settings
from resolvers.runtime.webhooks import WebhookDeliverer
from resolvers.runtime.wiring import build_repository, identifier_rules, webhook_config
from resolvers.web_assets.server import GRAPHIQL, SWAGGER_UI

log = logging.getLogger(__name__)


class State(TypedDict):
    repository: ContactRepository
    readiness: Readiness
    rate_limits: RateLimits
    rules: IdentifierRules
    authenticator: Authenticator
    feed: LedgerFeed


async def _warm_up(repository: ContactRepository, bound: float) -> None:
    log.info("Warming Neo4j up (at most %.0f s)", bound)
    try:
        report = await repository.warm_up(bound)
    except DatabaseUnavailable as error:
        log.warning("Warming Neo4j up stopped: %s", error)
        return
    log.info(
        "Neo4j warmed up in %.1f s: %d rounds, the first %.2f s, the fastest %.2f s; %s",
        report.seconds,
        len(report.rounds),
        report.rounds[0][1] if report.rounds else 0.0,
        min((took for _, took in report.rounds), default=0.0),
        report.ended_by,
    )


async def _upkeep(repository: ContactRepository, sizes: StoreSizes, every: float) -> None:
    """Now and then, for as long as the app runs: deletes expired idempotency keys, and reads
    how much each growing store holds (identity_stored_nodes). Every process does it; deleting
    a key twice is harmless."""
    while True:
        await asyncio.sleep(every)
        try:
            deleted = await repository.purge_idempotency_keys()
            observe_store_sizes(await sizes.read())
        except DatabaseUnavailable as error:
            log.warning("Store upkeep (expired keys, store sizes) failed: %s", error)
            continue
        if deleted:
            log.info("Purged %d expired idempotency keys", deleted)


# Paths served without a key while keys are required: they hold no data.
OPEN_PATHS = ("/healthz", "/readyz")
DEV_TOOL_PATHS = ("/openapi.json", "/docs")
DEV_TOOL_PREFIXES = (GRAPHIQL.route, SWAGGER_UI.route)


def _log_access_mode(settings: Settings) -> None:
    # A TLS proxy on the same host forwarding to 127.0.0.1 turns AUTH=auto off: say so.
    log.info(
        "API keys %s (AUTH=%s, HOST=%s); dev tools %s",
        "required" if settings.auth_required else "NOT required",
        settings.auth,
        settings.host,
        "served" if settings.dev_tools_exposed else "off",
    )


def create_app(settings: Settings, connection: Neo4jConnection) -> Starlette:
    rules = identifier_rules(settings)
    webhooks = webhook_config(settings)
    # Counted by the gateway per request, and by GraphQL per further root field.
    rate_limits = RateLimits()

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[State]:
        driver, repository = build_repository(settings, connection, Neo4jMetrics())
        keys = ApiKeyStore(driver, connection.database, settings.request_timeout)
        authenticator = Authenticator(keys, settings.rate_limit_default)
        _log_access_mode(settings)
        warming_up: asyncio.Task[None] | None = None
        sizes = StoreSizes(driver, connection.database, settings.request_timeout)
        purging = asyncio.create_task(
            _upkeep(repository, sizes, settings.idempotency_purge_seconds)
        )
        outbox = Outbox(driver, connection.database, settings.request_timeout)
        feed = LedgerFeed(outbox)
        delivering = None
        if webhooks is not None:
            deliverer = WebhookDeliverer(outbox, webhooks, WebhookMetrics())
            delivering = asyncio.create_task(deliverer.run())
        try:
            try:
                await repository.prepare()
            except DatabaseUnavailable as error:
                # Serve anyway: requests answer 503 until Neo4j is back, then the schema is made.
                log.warning("Neo4j not reachable at start-up (%s); will retry per request", error)
                repository.warmed_up = True  # traffic will warm it up once it is back
            else:
                if settings.warm_up_seconds > 0:
                    # In the background: the process answers (/healthz) meanwhile, and /readyz
                    # says "warming up" until it is done.
                    warming_up = asyncio.create_task(_warm_up(repository, settings.warm_up_seconds))
                else:
                    repository.warmed_up = True
            yield {
                "repository": repository,
                "readiness": Readiness(repository, settings.readyz_cache_seconds),
                "rate_limits": rate_limits,
                "authenticator": authenticator,
                "rules": rules,
                "feed": feed,
            }
        finally:
            await feed.close()
            for task in (warming_up, purging, delivering):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            with contextlib.suppress(DatabaseUnavailable):
                await authenticator.flush()  # the keys' last uses of the final seconds
            await repository.close()
            await driver.close()

    limits = GraphQLLimits(
        max_depth=settings.graphql_max_depth,
        max_aliases=settings.graphql_max_aliases,
        max_tokens=settings.graphql_max_tokens,
        # With the dev tools: the schema's own description helps an attacker as much as anyone.
        introspection=settings.graphql_introspection and settings.dev_tools_exposed,
    )
    schema = build_schema(limits)
    graphql = GraphQLApp(
        schema,
        graphql_ide="graphiql" if settings.dev_tools_exposed else None,
        allow_queries_via_get=False,
        # clusterChanged: the protocol Strawberry and current clients speak; not the older
        # graphql-ws (subscriptions-transport-ws), unmaintained since 2021.
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
    )
    graphql.planned = PlannedIdentify(schema)
    routes = [
        # Every method: the GraphQL app refuses all but POST (and GET for GraphiQL) itself, in
        # the GraphQL shape.
        Route("/graphql", graphql),
        WebSocketRoute("/graphql", graphql),
        Route("/identify", IdentifyEndpoint(), methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics_endpoint, methods=["GET"]),
        Route("/neo4j-browser/guide.html", guide_endpoint, methods=["GET"]),
        Route("/neo4j-browser/identity.grass", style_endpoint, methods=["GET"]),
    ]
    if settings.dev_tools_exposed:
        # Not routed at all otherwise: a 404 like any path the service lacks, before any key
        # check (the authentication middleware leaves unlisted paths alone).
        routes += [
            Route("/openapi.json", openapi_endpoint, methods=["GET"]),
            Route(f"{GRAPHIQL.route}{{name:path}}", GRAPHIQL.endpoint, methods=["GET"]),
            Route("/docs", docs_endpoint, methods=["GET"]),
            Route(f"{SWAGGER_UI.route}{{name:path}}", SWAGGER_UI.endpoint, methods=["GET"]),
        ]
    return Starlette(
        routes=routes,
        middleware=[
            Middleware(
                Gateway,
                hosts=HostCheck(settings.allowed_hosts),
                open_to_any_host=OPEN_PATHS,
                admission=Admission(
                    required=settings.auth_required,
                    open_paths=OPEN_PATHS + (DEV_TOOL_PATHS if settings.dev_tools_exposed else ()),
                    open_prefixes=(
                        BROWSER_GUIDE_PREFIX,
                        *(DEV_TOOL_PREFIXES if settings.dev_tools_exposed else ()),
                    ),
                    rate_limits=rate_limits,
                ),
                sockets=Sockets(settings.max_sockets_per_key),
                body=BodyLimit(settings.max_body_bytes, settings.body_read_timeout),
                api_origins=settings.cors_allow_origins,
                browser_origins=browser_origins(settings),
            ),
        ],
        exception_handlers={
            ApiError: handle_error,
            DatabaseUnavailable: handle_error,
            404: handle_error,
            405: handle_error,
        },
        lifespan=lifespan,
    )
