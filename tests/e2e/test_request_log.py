"""One JSON access line per request, with a request id that is kept when safe and echoed back."""

from __future__ import annotations

import io
import json
import logging
import re
from typing import Any

import httpx
import pytest

from graphdb.driver import Neo4jConnection
from graphdb.repository import ContactRepository
from resolvers.runtime.settings import Settings
from tests.support.app import app_client
from tests.support.logs import LOG_HASH

GENERATED_ID = re.compile(r"[0-9a-f]{32}")


def _lines(log_output: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log_output.getvalue().splitlines()]


def _access_lines(log_output: io.StringIO, request_id: str) -> list[dict[str, Any]]:
    return [
        line
        for line in _lines(log_output)
        if line["logger"] == "resolvers.http.middleware.request_log"
        and line.get("request_id") == request_id
    ]


async def test_one_access_line_per_request_with_route_status_duration_and_outcome(
    client: httpx.AsyncClient, log_output: io.StringIO
) -> None:
    response = await client.post(
        "/identify",
        json={"email": "lorraine@hillvalley.edu", "phoneNumber": "123456"},
        headers={"X-Request-ID": "checkout-42"},
    )

    assert response.headers["x-request-id"] == "checkout-42"
    [line] = _access_lines(log_output, "checkout-42")
    assert line["message"] == "POST /identify 200"
    assert (line["method"], line["route"], line["status"]) == ("POST", "/identify", 200)
    assert line["outcome"] == "created_primary"
    assert line["identifiers"] == [
        LOG_HASH.email("lorraine@hillvalley.edu"),
        LOG_HASH.phone("123456"),
    ]
    assert isinstance(line["duration_ms"], float)
    assert line["duration_ms"] >= 0
    assert line["level"] == "INFO"
    assert isinstance(line["pid"], int)
    assert "time" in line


async def test_a_request_without_an_identify_has_no_outcome(
    client: httpx.AsyncClient, log_output: io.StringIO
) -> None:
    response = await client.get("/graphql-assets/no-such-file.js")

    request_id = response.headers["x-request-id"]
    assert GENERATED_ID.fullmatch(request_id)
    [line] = _access_lines(log_output, request_id)
    assert line["route"] == "/graphql-assets/{name:path}"
    assert line["status"] == 404
    assert "outcome" not in line
    assert "identifiers" not in line


async def test_every_identify_of_a_graphql_document_is_in_its_outcome(
    client: httpx.AsyncClient, log_output: io.StringIO
) -> None:
    query = """mutation {
      a: identify(input: {email: "george@hillvalley.edu"}) { __typename }
      b: identify(input: {email: "george@hillvalley.edu"}) { __typename }
    }"""
    response = await client.post("/graphql", json={"query": query})

    [line] = _access_lines(log_output, response.headers["x-request-id"])
    assert line["outcome"] == "created_primary,nothing_new"


@pytest.mark.parametrize(
    "incoming",
    ["checkout-42", "550e8400-e29b-41d4-a716-446655440000", "svc:web.7_a"],
    ids=["name", "uuid", "every-allowed-punctuation"],
)
async def test_a_safe_request_id_is_kept(client: httpx.AsyncClient, incoming: str) -> None:
    response = await client.get("/healthz", headers={"X-Request-ID": incoming})

    assert response.headers["x-request-id"] == incoming


@pytest.mark.parametrize(
    "incoming",
    [
        "x" * 129,
        "has space",
        "lorraine@hillvalley.edu",
        "lorraine%40hillvalley.edu",
        "bob~@example.com",
        "tab\tin",
        "555-010-0199",
        "73519",
        "+15550100199",
        "a/b",
    ],
    ids=[
        "too-long",
        "space",
        "email",
        "url-encoded-email",
        "email-with-tilde",
        "control-character",
        "formatted-phone",
        "short-phone",
        "plus-phone",
        "slash",
    ],
)
async def test_an_unsafe_request_id_is_replaced_by_a_new_one(
    client: httpx.AsyncClient, log_output: io.StringIO, incoming: str
) -> None:
    response = await client.get("/healthz", headers={"X-Request-ID": incoming})

    request_id = response.headers["x-request-id"]
    assert GENERATED_ID.fullmatch(request_id)
    assert len(_access_lines(log_output, request_id)) == 1
    assert incoming not in log_output.getvalue()


async def test_lines_logged_while_serving_a_request_carry_its_id_and_no_value(
    neo4j: Neo4jConnection,
    settings: Settings,
    log_output: io.StringIO,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def explode(*_args: object) -> None:
        raise RuntimeError("while linking lorraine@hillvalley.edu and 5550100199")

    monkeypatch.setattr(ContactRepository, "identify_request", explode)
    async with app_client(settings, neo4j) as client:
        response = await client.post(
            "/identify", json={"email": "lorraine@hillvalley.edu"}, headers={"X-Request-ID": "r-1"}
        )

    assert response.status_code == 500
    lines = [line for line in _lines(log_output) if line.get("request_id") == "r-1"]
    assert [line["level"] for line in lines] == ["ERROR", "INFO"]
    assert "RuntimeError (message not logged)" in lines[0]["exc_info"]
    assert lines[1]["status"] == 500
    assert "lorraine@" not in log_output.getvalue()
    assert "5550100199" not in log_output.getvalue()


def test_a_number_that_may_be_a_phone_is_hashed_in_text_and_stays_a_json_number(
    log_output: io.StringIO,
) -> None:
    logging.getLogger("tests.numbers").info("count %d", 1234567, extra={"total": 1234567})

    [line] = [line for line in _lines(log_output) if line["logger"] == "tests.numbers"]
    assert line["total"] == 1234567
    assert line["message"] == f"count {LOG_HASH.phone('1234567')}"
