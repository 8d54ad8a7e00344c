"""No log line holds an email or phone number in any form (as sent, canonical, URL-encoded),
whatever a client sends and wherever it puts it: REST and GraphQL bodies, valid and invalid, paths,
query strings and headers; nor does a Neo4j error that quotes one. The access line carries the
keyed hashes instead, so an operator can still find a customer's requests."""

from __future__ import annotations

import io
import json
import os
from typing import Any, LiteralString
from urllib.parse import quote

import httpx
import pytest
from neo4j.exceptions import ConstraintError

from graphdb.repository import ContactRepository
from graphdb.requests import IdentifyRequest
from tests.support.logs import LOG_HASH, leaks

EMAILS = ["bob~@example.com", "a@b.c"]
PHONES = ["73519", "555-010-0199", "+1 (555) 010-0199"]
OVERLONG_EMAIL = "zq" * 150 + "@example.com"
VALUES = [*EMAILS, *PHONES, OVERLONG_EMAIL]

IDENTIFY = """mutation($input: IdentifyInput!) {
  identify(input: $input) { __typename ... on InvalidInput { code } }
}"""
CONTACT = "query($email: String, $phone: String) { contact(email: $email, phoneNumber: $phone) { primaryContactId } }"  # noqa: E501
CREATE_EMAIL: LiteralString = "CREATE (:Email {value: $value})"


def _field(value: str) -> str:
    return "email" if "@" in value else "phoneNumber"


def _hostile_headers(value: str) -> dict[str, str]:
    return {
        "X-Request-ID": value,
        "User-Agent": f"shop/1.0 ({value})",
        "Referer": f"https://shop.test/account/{quote(value, safe='')}?email={quote(value)}",
        "Authorization": f"Bearer {value}",
        "X-Customer": value,
    }


async def _send_everywhere(client: httpx.AsyncClient, value: str) -> None:
    headers = _hostile_headers(value)
    field = _field(value)
    await client.post("/identify", json={field: value}, headers=headers)
    await client.post(
        "/graphql",
        json={"query": IDENTIFY, "variables": {"input": {field: value}}},
        headers=headers,
    )
    literal = json.dumps(value)
    await client.post(
        "/graphql",
        json={"query": f"mutation {{ identify(input: {{{field}: {literal}}}) {{ __typename }} }}"},
        headers=headers,
    )
    await client.post(
        "/graphql",
        json={"query": CONTACT, "variables": {"email" if "@" in value else "phone": value}},
        headers=headers,
    )
    # Invalid input carrying the value: a bad companion field, and GraphQL that will not parse.
    await client.post("/identify", json={field: value, "email": 7}, headers=headers)
    await client.post("/graphql", json={"query": f"{{ contact(email: {literal} }}"})
    encoded = quote(value, safe="")
    await client.get(f"/identify/{encoded}?{field}={encoded}", headers=headers)
    await client.get(f"/contacts/{encoded}", params={"q": value}, headers=headers)
    await client.post(f"/graphql?{field}={encoded}", json={"query": "{ __typename }"})


def _service_lines(log_output: io.StringIO) -> list[dict[str, Any]]:
    # The test's own HTTP client logs the URLs it requests: those lines are not the service's.
    lines = [json.loads(line) for line in log_output.getvalue().splitlines()]
    return [line for line in lines if line["logger"] not in {"httpx", "httpcore"}]


async def test_no_log_line_holds_a_value_sent_anywhere(
    client: httpx.AsyncClient, log_output: io.StringIO
) -> None:
    for value in VALUES:
        await _send_everywhere(client, value)
    await client.post("/identify", json={"phoneNumber": 73519})
    await client.post("/identify", json={"email": "bob~@example.com", "phoneNumber": "12"})
    await client.request("73519", "/identify")

    logs = _service_lines(log_output)
    assert leaks("\n".join(json.dumps(line) for line in logs), VALUES) == []
    assert os.getpid() != 73519, "the pid would look like a leak"
    access = [line for line in logs if line["logger"].endswith("request_log")]
    assert len(access) >= len(VALUES) * 9
    assert {line["request_id"] for line in access}.isdisjoint(VALUES)
    assert "OTHER" in {line["method"] for line in access}


async def test_the_identify_access_line_carries_the_values_keyed_hashes(
    client: httpx.AsyncClient, log_output: io.StringIO
) -> None:
    await client.post("/identify", json={"email": "Bob~@Example.com", "phoneNumber": "73519"})
    await client.post(
        "/graphql",
        json={"query": IDENTIFY, "variables": {"input": {"phoneNumber": "+1 (555) 010-0199"}}},
    )

    identified = [
        json.loads(line).get("identifiers") for line in log_output.getvalue().splitlines()
    ]
    assert [hashes for hashes in identified if hashes] == [
        [LOG_HASH.email("bob~@example.com"), LOG_HASH.phone("73519")],
        [LOG_HASH.phone("+15550100199")],
    ]


@pytest.mark.parametrize("api", ["rest", "graphql"])
async def test_a_neo4j_constraint_error_is_logged_by_its_code_not_its_message(
    client: httpx.AsyncClient,
    log_output: io.StringIO,
    monkeypatch: pytest.MonkeyPatch,
    api: str,
) -> None:
    raised: list[ConstraintError] = []

    async def create_twice(self: ContactRepository, request: IdentifyRequest) -> Any:
        try:
            for _ in range(2):
                await self._driver.execute_query(
                    CREATE_EMAIL, value=request.email, database_=self._database
                )
        except ConstraintError as error:
            raised.append(error)
            raise

    monkeypatch.setattr(ContactRepository, "identify_request", create_twice)
    if api == "rest":
        await client.post("/identify", json={"email": "bob~@example.com"})
    else:
        variables = {"input": {"email": "bob~@example.com"}}
        await client.post("/graphql", json={"query": IDENTIFY, "variables": variables})

    [error] = raised
    assert "bob~@example.com" in str(error)  # what the log would have held
    logs = "\n".join(json.dumps(line) for line in _service_lines(log_output))
    assert "Neo.ClientError.Schema.ConstraintValidationFailed" in logs
    assert leaks(logs, ["bob~@example.com"]) == []
