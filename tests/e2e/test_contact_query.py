"""The GraphQL contact query: a whole cluster by id, email or phone, with every contact's fields."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx

CONTACT = """
query Contact($id: Int, $email: String, $phoneNumber: String) {
  contact(id: $id, email: $email, phoneNumber: $phoneNumber) {
    primaryContactId emails phoneNumbers secondaryContactIds
    primary { id }
    contacts { id email phoneNumber linkedId linkPrecedence createdAt updatedAt }
  }
}
"""


async def _contact(client: httpx.AsyncClient, **variables: Any) -> dict[str, Any]:
    response = await client.post("/graphql", json={"query": CONTACT, "variables": variables})
    assert response.status_code == 200
    payload: dict[str, Any] = response.json()
    return payload


async def _seed_lorraine_and_mcfly(client: httpx.AsyncClient) -> None:
    for body in (
        {"email": "lorraine@hillvalley.edu", "phoneNumber": "123456"},
        {"email": "mcfly@hillvalley.edu", "phoneNumber": "123456"},
    ):
        assert (await client.post("/identify", json=body)).status_code == 200


async def test_contact_by_id_email_or_phone_returns_the_whole_cluster(
    client: httpx.AsyncClient,
) -> None:
    await _seed_lorraine_and_mcfly(client)

    answers = [
        await _contact(client, id=2),
        await _contact(client, email=" McFly@HillValley.edu"),
        await _contact(client, phoneNumber="12-34-56"),
    ]

    for payload in answers:
        assert payload.get("errors") is None
    assert answers[0] == answers[1] == answers[2]
    identity = answers[0]["data"]["contact"]
    assert identity["primaryContactId"] == 1
    assert identity["primary"] == {"id": 1}
    assert identity["emails"] == ["lorraine@hillvalley.edu", "mcfly@hillvalley.edu"]
    assert identity["secondaryContactIds"] == [2]
    primary, secondary = identity["contacts"]
    assert (primary["linkedId"], primary["linkPrecedence"]) == (None, "PRIMARY")
    assert (secondary["linkedId"], secondary["linkPrecedence"]) == (1, "SECONDARY")
    assert secondary["email"] == "mcfly@hillvalley.edu"
    assert secondary["phoneNumber"] == "123456"
    assert datetime.fromisoformat(primary["createdAt"]) <= datetime.fromisoformat(
        secondary["createdAt"]
    )


async def test_contact_that_matches_nothing_is_null(client: httpx.AsyncClient) -> None:
    payload = await _contact(client, email="nobody@hillvalley.edu")

    assert payload.get("errors") is None
    assert payload["data"]["contact"] is None


async def test_contact_needs_exactly_one_argument(client: httpx.AsyncClient) -> None:
    none_given = await _contact(client)
    two_given = await _contact(client, id=1, email="lorraine@hillvalley.edu")

    for payload in (none_given, two_given):
        assert payload["errors"][0]["extensions"]["code"] == "invalid_arguments"


async def test_contact_with_an_invalid_email_is_an_error(client: httpx.AsyncClient) -> None:
    payload = await _contact(client, email="not-an-email")

    assert payload["errors"][0]["extensions"] == {"code": "invalid_email", "field": "email"}
