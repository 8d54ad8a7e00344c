"""With Neo4j unreachable the service answers 503 quickly, with a clear message and no trace."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager

import httpx
import pytest
from prometheus_client import generate_latest

from graphdb.driver import Neo4jConnection
from graphdb.local.server import free_port
from resolvers.runtime.settings import Settings
from tests.support.app import app_client
from tests.support.metrics import parse, scrape, value

# Far below any hang, and above the retry budget the settings below allow.
ANSWER_WITHIN_SECONDS = 15
ERRORS = "identity_neo4j_errors_total"


def _without_database() -> AbstractAsyncContextManager[httpx.AsyncClient]:
    nowhere = Neo4jConnection(f"bolt://127.0.0.1:{free_port()}", "neo4j", "no-password")
    settings = dataclasses.replace(
        Settings.from_environment(env_file=None), neo4j_retry_time=2.0, request_timeout=5.0
    )
    return app_client(settings, nowhere)


@pytest.fixture
async def client_without_database() -> AsyncIterator[httpx.AsyncClient]:
    async with _without_database() as client:
        yield client


async def test_rest_answers_503_when_neo4j_is_down(
    client_without_database: httpx.AsyncClient,
) -> None:
    async with asyncio.timeout(ANSWER_WITHIN_SECONDS):
        response = await client_without_database.post(
            "/identify", json={"email": "doc@hillvalley.edu"}
        )

    assert response.status_code == 503
    assert response.headers["retry-after"]
    assert response.json() == {
        "error": {
            "code": "database_unavailable",
            "message": "The database is unavailable; retry shortly.",
        }
    }


@pytest.mark.parametrize(
    "query",
    [
        'mutation { identify(input: {email: "doc@hillvalley.edu"}) { __typename } }',
        "{ contact(id: 1) { primaryContactId } }",
    ],
    ids=["identify", "contact"],
)
async def test_graphql_answers_503_when_neo4j_is_down(
    client_without_database: httpx.AsyncClient, query: str
) -> None:
    async with asyncio.timeout(ANSWER_WITHIN_SECONDS):
        response = await client_without_database.post("/graphql", json={"query": query})

    assert response.status_code == 503
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "database_unavailable"}
    assert "Traceback" not in response.text


async def test_health_says_alive_and_readiness_says_why_not_when_neo4j_is_down(
    client_without_database: httpx.AsyncClient,
) -> None:
    async with asyncio.timeout(ANSWER_WITHIN_SECONDS):
        live = await client_without_database.get("/healthz")
        ready = await client_without_database.get("/readyz")

    assert live.status_code == 200
    assert ready.status_code == 503
    assert ready.json()["status"] == "unavailable"
    assert ready.json()["reason"].startswith("Neo4j is ")


async def test_neo4j_errors_are_counted_by_kind() -> None:
    # Read in-process before the app starts: its start-up already meets the first error.
    before = parse(generate_latest().decode())
    async with _without_database() as client:
        after = await scrape(client)

    assert value(after, ERRORS, kind="unavailable") == value(before, ERRORS, kind="unavailable") + 1
    assert value(after, ERRORS, kind="other") == value(before, ERRORS, kind="other")
