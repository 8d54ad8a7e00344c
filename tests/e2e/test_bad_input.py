"""Bad input: a clear 4xx with a JSON error body (REST) or an InvalidInput (GraphQL); no writes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from neo4j import AsyncDriver

from tests.support.graph import count_nodes

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
# Full-width digits: Unicode says they are digits, a phone network does not.
WIDE_DIGITS = '{"phoneNumber": "\uff11\uff12\uff13\uff14"}'.encode()

REST_CASES = [
    # (case, body, content type, status, code)
    ("malformed json", b'{"email": ', JSON, 400, "malformed_json"),
    ("invalid utf-8", b'{"email": "\xff\xfe@x.com"}', JSON, 400, "malformed_json"),
    ("empty body", b"", JSON, 400, "malformed_json"),
    ("deeply nested", b"[" * 30000 + b"]" * 30000, JSON, 400, "malformed_json"),
    ("huge integer", b'{"phoneNumber": ' + b"9" * 5000 + b"}", JSON, 400, "malformed_json"),
    ("array body", b'[{"email": "a@b.co"}]', JSON, 400, "body_not_object"),
    ("string body", b'"a@b.co"', JSON, 400, "body_not_object"),
    ("both missing", b"{}", JSON, 400, "missing_identifier"),
    ("both null", b'{"email": null, "phoneNumber": null}', JSON, 400, "missing_identifier"),
    ("email is a number", b'{"email": 12}', JSON, 400, "invalid_type"),
    ("email is a boolean", b'{"email": true}', JSON, 400, "invalid_type"),
    ("email is an object", b'{"email": {"a": 1}}', JSON, 400, "invalid_type"),
    ("phone is a boolean", b'{"phoneNumber": false}', JSON, 400, "invalid_type"),
    ("phone is a float", b'{"phoneNumber": 123456.0}', JSON, 400, "invalid_type"),
    ("phone in exponent form", b'{"phoneNumber": 1e6}', JSON, 400, "invalid_type"),
    ("phone is an array", b'{"phoneNumber": ["123456"]}', JSON, 400, "invalid_type"),
    ("negative phone", b'{"phoneNumber": -123456}', JSON, 400, "invalid_phone"),
    ("empty email", b'{"email": "   "}', JSON, 400, "empty_value"),
    ("empty phone", b'{"phoneNumber": ""}', JSON, 400, "empty_value"),
    ("not an email", b'{"email": "lorraine.hillvalley.edu"}', JSON, 400, "invalid_email"),
    ("email with a space", b'{"email": "lor raine@hv.edu"}', JSON, 400, "invalid_email"),
    ("email with NUL", b'{"email": "a\\u0000@hv.edu"}', JSON, 400, "invalid_email"),
    ("raw NUL in a string", b'{"email": "a\x00@hv.edu"}', JSON, 400, "malformed_json"),
    ("combining mark", '{"email": "lorraine\u0301@hv.edu"}'.encode(), JSON, 400, "invalid_email"),
    ("wide digits", WIDE_DIGITS, JSON, 400, "invalid_phone"),
    ("phone with a + sign", b'{"phoneNumber": +123456}', JSON, 400, "malformed_json"),
    ("phone overflowing", b'{"phoneNumber": 1e400}', JSON, 400, "invalid_type"),
    ("look-alike letters", '{"email": "l\u043e@hv.edu"}'.encode(), JSON, 400, "invalid_email"),
    ("over-long email", b'{"email": "' + b"a" * 250 + b'@hv.edu"}', JSON, 400, "too_long"),
    ("phone with letters", b'{"phoneNumber": "12345a"}', JSON, 400, "invalid_phone"),
    ("phone too short", b'{"phoneNumber": "12"}', JSON, 400, "invalid_phone"),
    ("phone plus inside", b'{"phoneNumber": "12+345"}', JSON, 400, "invalid_phone"),
    ("over-long phone", b'{"phoneNumber": "' + b"1" * 70 + b'"}', JSON, 400, "too_long"),
    ("too many digits", b'{"phoneNumber": 123456789012345678901}', JSON, 400, "invalid_phone"),
    ("bad phone, ok email", b'{"email": "a@b.co", "phoneNumber": "x"}', JSON, 400, "invalid_phone"),
    ("plain text", b'{"email": "a@hv.edu"}', "text/plain", 415, "unsupported_media_type"),
    ("form encoded", b"email=a@hv.edu", FORM, 415, "unsupported_media_type"),
    ("no content type", b'{"email": "a@hv.edu"}', None, 415, "unsupported_media_type"),
    ("far too large", b'{"email": "' + b"a" * 200_000 + b'"}', JSON, 413, "payload_too_large"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [case[1:] for case in REST_CASES],
    ids=[case[0] for case in REST_CASES],
)
async def test_rest_rejects_bad_input_and_writes_nothing(
    client: httpx.AsyncClient,
    driver: AsyncDriver,
    database: str,
    body: bytes,
    content_type: str | None,
    status: int,
    code: str,
) -> None:
    headers = {} if content_type is None else {"content-type": content_type}

    response = await client.post("/identify", content=body, headers=headers)

    assert response.status_code == status
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"]
    assert set(error) == {"code", "message"}
    assert await count_nodes(driver, database) == 0


async def test_oversized_chunked_body_is_refused(
    client: httpx.AsyncClient, driver: AsyncDriver, database: str
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(100):
            yield b" " * 4096

    response = await client.post("/identify", content=chunks(), headers={"content-type": JSON})

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert await count_nodes(driver, database) == 0


async def test_unknown_route_and_method_answer_json_errors(client: httpx.AsyncClient) -> None:
    missing = await client.post("/nowhere", json={})
    wrong_method = await client.get("/identify")

    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "not_found")
    assert (wrong_method.status_code, wrong_method.json()["error"]["code"]) == (
        405,
        "method_not_allowed",
    )


IDENTIFY = """
mutation Identify($input: IdentifyInput!) {
  identify(input: $input) {
    __typename
    ... on InvalidInput { code message field }
  }
}
"""

GRAPHQL_CASES = [
    ({}, "missing_identifier", None),
    ({"email": None, "phoneNumber": None}, "missing_identifier", None),
    ({"email": "nope"}, "invalid_email", "email"),
    ({"email": " "}, "empty_value", "email"),
    ({"phoneNumber": "555-CALL-NOW"}, "invalid_phone", "phoneNumber"),
    ({"email": "a@hv.edu", "phoneNumber": "1" * 70}, "too_long", "phoneNumber"),
]


@pytest.mark.parametrize(("variables", "code", "field"), GRAPHQL_CASES)
async def test_graphql_returns_invalid_input_and_writes_nothing(
    client: httpx.AsyncClient,
    driver: AsyncDriver,
    database: str,
    variables: dict[str, str | None],
    code: str,
    field: str | None,
) -> None:
    response = await client.post(
        "/graphql", json={"query": IDENTIFY, "variables": {"input": variables}}
    )

    assert response.status_code == 200
    payload = response.json()
    assert payload.get("errors") is None
    result = payload["data"]["identify"]
    assert result["__typename"] == "InvalidInput"
    assert (result["code"], result["field"]) == (code, field)
    assert result["message"]
    assert await count_nodes(driver, database) == 0


async def test_graphql_rejects_a_phone_sent_as_a_number(
    client: httpx.AsyncClient, driver: AsyncDriver, database: str
) -> None:
    response = await client.post(
        "/graphql", json={"query": IDENTIFY, "variables": {"input": {"phoneNumber": 123456}}}
    )

    assert response.json()["errors"]
    assert response.json().get("data") is None
    assert await count_nodes(driver, database) == 0


async def test_unknown_fields_are_ignored(
    client: httpx.AsyncClient, driver: AsyncDriver, database: str
) -> None:
    body = {"email": "doc@hillvalley.edu", "name": "Emmett", "isAdmin": True, "id": 7}

    response = await client.post("/identify", json=body)

    assert response.status_code == 200
    assert response.json()["contact"]["emails"] == ["doc@hillvalley.edu"]
