"""Error answers carry neither a stack trace nor Cypher, and the log of them holds no email or
phone number (the rules checked on the code alone are in tests/unit/test_security_rules.py)."""

from __future__ import annotations

import io

import pytest
from neo4j import AsyncDriver

from graphdb.driver import Neo4jConnection
from graphdb.repository import ContactRepository
from resolvers.runtime.settings import Settings
from tests.support.app import app_client


async def _explode(*_args: object) -> None:
    raise RuntimeError(
        "MATCH (c:Contact {email: 'lorraine@hillvalley.edu', phoneNumber: '5550100199'})"
    )


async def test_unexpected_errors_are_answered_without_trace_and_logged_without_values(
    driver: AsyncDriver,
    neo4j: Neo4jConnection,
    settings: Settings,
    log_output: io.StringIO,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ContactRepository, "identify_request", _explode)
    body = {"email": "lorraine@hillvalley.edu", "phoneNumber": "5550100199"}
    query = 'mutation { identify(input: {email: "lorraine@hillvalley.edu"}) { __typename } }'
    async with app_client(settings, neo4j) as client:
        rest = await client.post("/identify", json=body)
        graphql = await client.post("/graphql", json={"query": query})

    assert rest.status_code == 500
    assert rest.json() == {
        "error": {"code": "internal_error", "message": "An unexpected error occurred."}
    }
    assert graphql.json()["errors"][0]["message"] == "Unexpected error."
    for answer in (rest.text, graphql.text):
        assert "MATCH" not in answer
        assert "Traceback" not in answer
    logs = log_output.getvalue()
    assert "RuntimeError (message not logged)" in logs
    assert "lorraine@hillvalley.edu" not in logs
    assert "5550100199" not in logs
