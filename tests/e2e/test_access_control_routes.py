"""Deny by default, in-process with AUTH=required: every path needs a key unless it holds no data
(health, the Browser guide), and the check follows the router's own path, also behind a root
path (a proxy's prefix), where the raw path starts with the prefix."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager
from neo4j import AsyncDriver

from graphdb.api_keys import ApiKeyStore
from graphdb.driver import Neo4jConnection
from resolvers.core.access import key_hash, new_key
from resolvers.http.app import create_app
from resolvers.runtime.settings import Settings

GRAPHQL = {"query": '{ contact(phoneNumber: "123456") { emails } }'}


@pytest.fixture(params=["", "/api"], ids=["no root path", "root path /api"])
async def secured(
    request: pytest.FixtureRequest,
    driver: AsyncDriver,
    neo4j: Neo4jConnection,
    settings: Settings,
) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    root_path: str = request.param
    store = ApiKeyStore(driver, neo4j.database)
    key = new_key()
    await store.create("metrics-only", key_hash(key), ("metrics",), None)
    app = create_app(dataclasses.replace(settings, auth="required"), neo4j)
    async with (
        LifespanManager(app, startup_timeout=60) as manager,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app, root_path=root_path),
            base_url=f"http://127.0.0.1{root_path}",
        ) as client,
    ):
        yield client, key


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/graphql", GRAPHQL),
        ("POST", "/identify", {"email": "lorraine@hillvalley.edu"}),
        ("GET", "/metrics", None),
        ("GET", "/no-such-route", None),
        ("POST", "/graphql/", GRAPHQL),
    ],
)
async def test_every_path_but_the_open_ones_needs_a_key(
    secured: tuple[httpx.AsyncClient, str], method: str, path: str, body: object
) -> None:
    client, _ = secured

    response = await client.request(method, path, json=body)

    assert response.status_code == 401, response.text
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_a_route_needs_its_scope_whatever_the_prefix(
    secured: tuple[httpx.AsyncClient, str],
) -> None:
    client, key = secured
    headers = {"Authorization": f"Bearer {key}"}

    metrics = await client.get("/metrics", headers=headers)
    graphql = await client.post("/graphql", json=GRAPHQL, headers=headers)
    rest = await client.post(
        "/identify", json={"email": "lorraine@hillvalley.edu"}, headers=headers
    )
    unknown = await client.get("/no-such-route", headers=headers)

    assert metrics.status_code == 200
    assert graphql.status_code == 403
    assert graphql.json()["data"] == {"contact": None}
    assert rest.status_code == 403
    # With a key, a path the service lacks is what it is.
    assert unknown.status_code == 404


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/neo4j-browser/guide.html"])
async def test_paths_holding_no_data_are_open(
    secured: tuple[httpx.AsyncClient, str], path: str
) -> None:
    client, _ = secured

    assert (await client.get(path)).status_code == 200


async def test_health_probes_answer_any_host_and_the_api_only_its_own(
    secured: tuple[httpx.AsyncClient, str],
) -> None:
    client, key = secured
    pod = {"host": "10.1.2.3:8000"}

    assert (await client.get("/healthz", headers=pod)).status_code == 200
    refused = await client.get("/metrics", headers={**pod, "Authorization": f"Bearer {key}"})
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "invalid_host"
