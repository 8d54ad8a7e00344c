"""Hardened defaults, in every mode: GraphQL only as a POST of JSON, JSON bodies only, the Host
header checked, a deadline on the body; and the dev tools gone while keys are required."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass

import httpx
import pytest
from neo4j import AsyncDriver

from graphdb.api_keys import ApiKeyStore
from graphdb.driver import Neo4jConnection
from resolvers.core.access import Scope, key_hash, new_key
from resolvers.runtime.settings import Settings
from resolvers.web_assets.server import GRAPHIQL, SWAGGER_UI
from tests.support.app import app_client
from tests.support.graph import count_nodes

CONTACT = "{ contact(id: 1) { primaryContactId } }"
IDENTIFY = 'mutation { identify(input: {email: "doc@hillvalley.edu"}) { __typename } }'
INTROSPECTION = "{ __schema { queryType { name } } }"
# What a page in someone's browser may post to another origin without a CORS preflight, and
# some types that do need one but are not JSON.
NOT_JSON = [
    pytest.param(None, id="none"),
    pytest.param("text/plain", id="text"),
    pytest.param("application/x-www-form-urlencoded", id="form"),
    pytest.param("multipart/form-data; boundary=x", id="multipart"),
    pytest.param("application/graphql", id="graphql"),
]


def _graphql_code(response: httpx.Response) -> str:
    errors = response.json()["errors"]
    assert len(errors) == 1
    code: str = errors[0]["extensions"]["code"]
    return code


def _rest_code(response: httpx.Response) -> str:
    code: str = response.json()["error"]["code"]
    return code


async def test_a_graphql_query_over_get_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", params={"query": CONTACT})

    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert _graphql_code(response) == "method_not_allowed"


async def test_a_graphql_mutation_over_get_is_refused_and_writes_nothing(
    client: httpx.AsyncClient, driver: AsyncDriver, database: str
) -> None:
    response = await client.get(
        "/graphql", params={"query": IDENTIFY}, headers={"accept": "application/json"}
    )

    assert response.status_code == 405
    assert _graphql_code(response) == "method_not_allowed"
    assert await count_nodes(driver, database) == 0


async def test_graphql_answers_other_methods_in_its_own_shape(client: httpx.AsyncClient) -> None:
    response = await client.put("/graphql", json={"query": CONTACT})

    assert response.status_code == 405
    assert _graphql_code(response) == "method_not_allowed"


@pytest.mark.parametrize("content_type", NOT_JSON)
@pytest.mark.parametrize(
    ("path", "body", "code_of"),
    [
        pytest.param("/graphql", {"query": IDENTIFY}, _graphql_code, id="graphql"),
        pytest.param("/identify", {"email": "doc@hillvalley.edu"}, _rest_code, id="identify"),
    ],
)
async def test_a_body_that_is_not_sent_as_json_is_refused_and_writes_nothing(
    client: httpx.AsyncClient,
    driver: AsyncDriver,
    database: str,
    content_type: str | None,
    path: str,
    body: dict[str, str],
    code_of: Callable[[httpx.Response], str],
) -> None:
    headers = {} if content_type is None else {"content-type": content_type}

    response = await client.post(path, content=json.dumps(body), headers=headers)

    assert response.status_code == 415
    assert code_of(response) == "unsupported_media_type"
    assert await count_nodes(driver, database) == 0


async def test_json_with_a_charset_is_json(client: httpx.AsyncClient) -> None:
    headers = {"content-type": "application/json; charset=utf-8"}

    graphql = await client.post("/graphql", content=json.dumps({"query": CONTACT}), headers=headers)
    rest = await client.post(
        "/identify", content=json.dumps({"email": "doc@hillvalley.edu"}), headers=headers
    )

    assert graphql.status_code == 200
    assert graphql.json().get("errors") is None
    assert rest.status_code == 200


@pytest.mark.parametrize(
    "host", ["evil.example", "evil.example:8000", "127.0.0.1.evil.example", "", "[::1"]
)
async def test_a_host_the_service_does_not_go_by_is_refused_and_nothing_written(
    client: httpx.AsyncClient, driver: AsyncDriver, database: str, host: str
) -> None:
    rest = await client.post(
        "/identify", json={"email": "doc@hillvalley.edu"}, headers={"host": host}
    )
    graphql = await client.post("/graphql", json={"query": IDENTIFY}, headers={"host": host})

    assert (rest.status_code, _rest_code(rest)) == (400, "invalid_host")
    assert (graphql.status_code, _rest_code(graphql)) == (400, "invalid_host")
    assert await count_nodes(driver, database) == 0


@pytest.mark.parametrize("host", ["localhost:8000", "LOCALHOST", "127.0.0.1:8000", "[::1]:8000"])
async def test_the_loopback_names_are_served_by_default(
    client: httpx.AsyncClient, host: str
) -> None:
    response = await client.post("/graphql", json={"query": CONTACT}, headers={"host": host})

    assert response.status_code == 200
    assert response.json() == {"data": {"contact": None}}


async def test_health_probes_answer_whatever_the_host(client: httpx.AsyncClient) -> None:
    # Kubernetes probes send the pod's IP as the Host.
    for path in ("/healthz", "/readyz"):
        response = await client.get(path, headers={"host": "10.1.2.3:8000"})

        assert response.status_code == 200, path


async def test_allowed_hosts_names_the_hosts_served(
    driver: AsyncDriver, neo4j: Neo4jConnection, settings: Settings
) -> None:
    named = dataclasses.replace(settings, allowed_hosts=("identity.internal", "*.example.com"))
    async with app_client(named, neo4j) as client:
        loopback = await client.get("/metrics")
        exact = await client.get("/metrics", headers={"host": "identity.internal:8000"})
        wildcard = await client.get("/metrics", headers={"host": "api.example.com"})
        apex = await client.get("/metrics", headers={"host": "example.com"})

    assert (loopback.status_code, _rest_code(loopback)) == (400, "invalid_host")
    assert exact.status_code == 200
    assert wildcard.status_code == 200
    assert apex.status_code == 400


class _StalledBody:
    """A request body whose first bytes arrive and whose rest never does."""

    def __init__(self) -> None:
        self.started = False

    def __aiter__(self) -> _StalledBody:
        return self

    async def __anext__(self) -> bytes:
        if not self.started:
            self.started = True
            return b'{"email": "doc@'
        await asyncio.Event().wait()  # never set: only the service's deadline ends this
        raise StopAsyncIteration


async def test_a_body_that_does_not_arrive_in_time_gets_408_and_nothing_is_written(
    driver: AsyncDriver, neo4j: Neo4jConnection, settings: Settings, database: str
) -> None:
    impatient = dataclasses.replace(settings, body_read_timeout=0.1)
    async with app_client(impatient, neo4j) as client:
        response = await client.post(
            "/identify", content=_StalledBody(), headers={"content-type": "application/json"}
        )

    assert response.status_code == 408
    assert _rest_code(response) == "request_timeout"
    assert response.headers["connection"] == "close"
    assert await count_nodes(driver, database) == 0


DEV_TOOL_PATHS = [
    "/docs",
    "/openapi.json",
    f"{SWAGGER_UI.route}swagger-ui.css",
    f"{GRAPHIQL.route}graphiql@3.8.3/graphiql.min.js",
]


@dataclass
class DevTools:
    """What a service with keys required answers about its dev tools."""

    # GET of each of DEV_TOOL_PATHS, and of GraphiQL's page, with no key.
    paths: dict[str, httpx.Response]
    graphiql: httpx.Response
    # An introspection query, with a key that may read.
    introspection: httpx.Response


async def _dev_tools(
    driver: AsyncDriver, neo4j: Neo4jConnection, settings: Settings, *, exposed: bool
) -> DevTools:
    store = ApiKeyStore(driver, neo4j.database)
    key = new_key()
    await store.create("reader", key_hash(key), (Scope.READ.value,), None)
    locked = dataclasses.replace(settings, auth="required", expose_dev_tools=exposed)
    async with app_client(locked, neo4j) as client:
        return DevTools(
            # With a key: without one, every path but the open ones is a 401 (deny by default).
            paths={
                path: await client.get(path, headers={"authorization": f"Bearer {key}"})
                for path in DEV_TOOL_PATHS
            },
            graphiql=await client.get("/graphql", headers={"accept": "text/html"}),
            introspection=await client.post(
                "/graphql",
                json={"query": INTROSPECTION},
                headers={"authorization": f"Bearer {key}"},
            ),
        )


async def test_dev_tools_are_not_routed_while_keys_are_required(
    driver: AsyncDriver, neo4j: Neo4jConnection, settings: Settings
) -> None:
    tools = await _dev_tools(driver, neo4j, settings, exposed=False)

    # Not there at all: even a valid key finds nothing.
    for path, response in tools.paths.items():
        assert (response.status_code, _rest_code(response)) == (404, "not_found"), path
    assert (tools.graphiql.status_code, _graphql_code(tools.graphiql)) == (404, "not_found")
    assert tools.introspection.json()["data"] is None
    assert "introspection" in tools.introspection.json()["errors"][0]["message"].lower()


async def test_dev_tools_are_served_while_keys_are_required_when_asked_for(
    driver: AsyncDriver, neo4j: Neo4jConnection, settings: Settings
) -> None:
    tools = await _dev_tools(driver, neo4j, settings, exposed=True)

    for path, response in tools.paths.items():
        assert response.status_code == 200, path
    assert tools.graphiql.status_code == 200
    assert tools.graphiql.headers["content-type"].startswith("text/html")
    assert tools.introspection.json() == {"data": {"__schema": {"queryType": {"name": "Query"}}}}


async def test_graphql_introspection_off_stays_off_with_the_dev_tools(
    driver: AsyncDriver, neo4j: Neo4jConnection, settings: Settings
) -> None:
    exposed = dataclasses.replace(settings, expose_dev_tools=True, graphql_introspection=False)
    async with app_client(exposed, neo4j) as client:
        response = await client.post("/graphql", json={"query": INTROSPECTION})

    assert "introspection" in response.json()["errors"][0]["message"].lower()
