"""With Neo4j unreachable the service answers 503 quickly, with a clear message and no trace."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator

import httpx
import pytest

from graphdb.driver import Neo4jConnection
from graphdb.local_server import free_port
from resolvers.settings import Settings
from tests.conftest import app_client

# Far below any hang, and above the retry budget the settings below allow.
ANSWER_WITHIN_SECONDS = 15


@pytest.fixture
async def client_without_database() -> AsyncIterator[httpx.AsyncClient]:
    nowhere = Neo4jConnection(f"bolt://127.0.0.1:{free_port()}", "neo4j", "no-password")
    settings = dataclasses.replace(
        Settings.from_environment(env_file=None), neo4j_retry_time=2.0, request_timeout=5.0
    )
    async with app_client(settings, nowhere) as client:
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
