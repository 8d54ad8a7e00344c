"""Limits on what one request may ask: GraphQL depth, aliases, size and batches; CORS; body size."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import httpx
import pytest
from neo4j import AsyncDriver

from graphdb.driver import Neo4jConnection
from resolvers.runtime.settings import Settings
from tests.support.app import app_client
from tests.support.graph import count_nodes

FRONTEND = "https://shop.example"


async def _graphql(client: httpx.AsyncClient, query: str) -> httpx.Response:
    return await client.post("/graphql", json={"query": query})


def _error_messages(response: httpx.Response) -> str:
    return " ".join(error["message"] for error in response.json()["errors"])


async def test_a_query_deeper_than_the_limit_is_refused(
    driver: AsyncDriver, neo4j: Neo4jConnection, settings: Settings
) -> None:
    # The schema has no cycles, so its deepest query is shallow; a small limit shows the rule.
    shallow = dataclasses.replace(settings, graphql_max_depth=1)
    async with app_client(shallow, neo4j) as client:
        within = await _graphql(client, "{ contact(id: 1) { primaryContactId } }")
        beyond = await _graphql(client, "{ contact(id: 1) { primary { id } } }")

    assert within.json().get("errors") is None
    assert "exceeds maximum operation depth" in _error_messages(beyond)


async def test_more_aliases_than_the_limit_are_refused_and_nothing_is_written(
    client: httpx.AsyncClient, driver: AsyncDriver, database: str
) -> None:
    mutations = " ".join(
        f'a{n}: identify(input: {{email: "n{n}@hv.edu"}}) {{ __typename }}' for n in range(16)
    )

    response = await _graphql(client, f"mutation {{ {mutations} }}")

    assert "aliases found" in _error_messages(response)
    assert await count_nodes(driver, database) == 0


async def test_a_document_with_too_many_tokens_is_refused(client: httpx.AsyncClient) -> None:
    fields = " ".join(["primaryContactId"] * 2500)

    response = await _graphql(client, f"{{ contact(id: 1) {{ {fields} }} }}")

    assert "more than 2000 tokens" in _error_messages(response)


async def test_a_batch_of_operations_is_refused(client: httpx.AsyncClient) -> None:
    batch = [{"query": "{ contact(id: 1) { primaryContactId } }"}] * 2

    response = await client.post("/graphql", json=batch)

    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "bad_request"


async def test_a_graphql_body_over_the_size_limit_gets_413(client: httpx.AsyncClient) -> None:
    response = await _graphql(client, "{ contact(id: 1) { primaryContactId } }" + " " * 70_000)

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


@pytest.fixture
async def locked_down_client(
    driver: AsyncDriver, neo4j: Neo4jConnection, settings: Settings
) -> AsyncIterator[httpx.AsyncClient]:
    production = dataclasses.replace(
        settings, graphql_introspection=False, cors_allow_origins=(FRONTEND,)
    )
    async with app_client(production, neo4j) as client:
        yield client


async def test_introspection_is_on_by_default(client: httpx.AsyncClient) -> None:
    response = await _graphql(client, "{ __schema { queryType { name } } }")

    assert response.json()["data"]["__schema"]["queryType"]["name"] == "Query"


async def test_introspection_can_be_switched_off(locked_down_client: httpx.AsyncClient) -> None:
    response = await _graphql(locked_down_client, "{ __schema { queryType { name } } }")

    assert "introspection" in _error_messages(response).lower()


async def test_cors_allows_only_the_configured_origins(
    locked_down_client: httpx.AsyncClient,
) -> None:
    def preflight(origin: str) -> dict[str, str]:
        return {
            "origin": origin,
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type",
        }

    allowed = await locked_down_client.options("/graphql", headers=preflight(FRONTEND))
    refused = await locked_down_client.options(
        "/graphql", headers=preflight("https://evil.example")
    )

    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == FRONTEND
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers


async def test_cors_is_closed_by_default(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/identify", json={"email": "doc@hillvalley.edu"}, headers={"origin": FRONTEND}
    )

    assert "access-control-allow-origin" not in response.headers
