"""Every example of docs/rules.md, on a fresh database, over REST and over GraphQL."""

from __future__ import annotations

from typing import Any

import httpx

LORRAINE = {
    "primaryContatctId": 1,
    "emails": ["lorraine@hillvalley.edu"],
    "phoneNumbers": ["123456"],
    "secondaryContactIds": [],
}
WITH_MCFLY = {
    "primaryContatctId": 1,
    "emails": ["lorraine@hillvalley.edu", "mcfly@hillvalley.edu"],
    "phoneNumbers": ["123456"],
    "secondaryContactIds": [2],
}
GEORGE_AND_BIFF = {
    "primaryContatctId": 3,
    "emails": ["george@hillvalley.edu", "biffsucks@hillvalley.edu"],
    "phoneNumbers": ["919191", "717171"],
    "secondaryContactIds": [4],
}

IDENTIFY = """
mutation Identify($input: IdentifyInput!) {
  identify(input: $input) {
    __typename
    ... on Identity { primaryContactId emails phoneNumbers secondaryContactIds }
    ... on InvalidInput { code message field }
  }
}
"""


async def _rest(client: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post("/identify", json=body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def _graphql(client: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post("/graphql", json={"query": IDENTIFY, "variables": {"input": body}})
    assert response.status_code == 200, response.text
    payload = response.json()
    assert payload.get("errors") is None
    identity = payload["data"]["identify"]
    assert identity.pop("__typename") == "Identity"
    # The same answer in the legacy shape, so both transports check against one table.
    return {
        "contact": {
            "primaryContatctId": identity["primaryContactId"],
            "emails": identity["emails"],
            "phoneNumbers": identity["phoneNumbers"],
            "secondaryContactIds": identity["secondaryContactIds"],
        }
    }


async def _run_examples(client: httpx.AsyncClient, send: Any) -> None:
    lorraine = {"email": "lorraine@hillvalley.edu", "phoneNumber": "123456"}
    assert await send(client, lorraine) == {"contact": LORRAINE}
    mcfly = {"email": "mcfly@hillvalley.edu", "phoneNumber": "123456"}
    assert await send(client, mcfly) == {"contact": WITH_MCFLY}
    assert await send(client, {"email": None, "phoneNumber": "123456"}) == {"contact": WITH_MCFLY}
    assert await send(client, {"email": "mcfly@hillvalley.edu"}) == {"contact": WITH_MCFLY}

    george = await send(client, {"email": "george@hillvalley.edu", "phoneNumber": "919191"})
    assert george["contact"]["primaryContatctId"] == 3
    biff = await send(client, {"email": "biffsucks@hillvalley.edu", "phoneNumber": "717171"})
    assert biff["contact"]["primaryContatctId"] == 4
    merged = await send(client, {"email": "george@hillvalley.edu", "phoneNumber": "717171"})
    assert merged == {"contact": GEORGE_AND_BIFF}


async def test_spec_examples_over_rest(client: httpx.AsyncClient) -> None:
    await _run_examples(client, _rest)


async def test_spec_examples_over_graphql(client: httpx.AsyncClient) -> None:
    await _run_examples(client, _graphql)


async def test_rest_accepts_the_phone_as_a_json_integer(client: httpx.AsyncClient) -> None:
    await _rest(client, {"email": "lorraine@hillvalley.edu", "phoneNumber": "123456"})
    answer = await _rest(client, {"phoneNumber": 123456})
    assert answer == {"contact": LORRAINE}


async def test_answers_show_canonical_values(client: httpx.AsyncClient) -> None:
    answer = await _rest(
        client, {"email": "  Lorraine@HillValley.EDU ", "phoneNumber": "(12) 34-56"}
    )
    assert answer == {"contact": LORRAINE}
    again = await _rest(client, {"email": "lorraine@hillvalley.edu", "phoneNumber": "12.34.56"})
    assert again == {"contact": LORRAINE}
