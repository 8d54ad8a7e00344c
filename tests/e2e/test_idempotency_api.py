"""Idempotent identify through both APIs: the same key and body answered again with nothing
written, another body refused, keys scoped per API key, and 32 racing requests with one key."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import httpx
import pytest
from neo4j import AsyncDriver

from graphdb.api_keys import ApiKeyStore
from graphdb.driver import Neo4jConnection
from resolvers.core.access import key_hash, new_key
from resolvers.runtime.settings import Settings
from tests.support.app import app_client

IDENTIFY = """
mutation Identify($input: IdentifyInput!) {
  identify(input: $input) {
    __typename
    ... on Identity { primaryContactId secondaryContactIds emails phoneNumbers }
    ... on InvalidInput { code field }
  }
}
"""
COUNT = "MATCH (c:Contact) RETURN count(c) AS contacts"
EVENTS = "MATCH (e:Event) RETURN count(e) AS events"


async def _count(driver: AsyncDriver, database: str, query: str) -> int:
    records, _, _ = await driver.execute_query(query, database_=database)
    return int(records[0][0])


async def _rest(
    client: httpx.AsyncClient, key: str | None, email: str | None, phone: str | int | None
) -> httpx.Response:
    headers = {} if key is None else {"Idempotency-Key": key}
    body = {"email": email, "phoneNumber": phone}
    return await client.post("/identify", json=body, headers=headers)


async def _graphql(client: httpx.AsyncClient, **identify_input: Any) -> dict[str, Any]:
    response = await client.post(
        "/graphql", json={"query": IDENTIFY, "variables": {"input": identify_input}}
    )
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()["data"]["identify"]
    return answer


async def test_past_its_cap_a_caller_s_new_key_is_refused_and_an_old_one_answered(
    driver: AsyncDriver, neo4j: Neo4jConnection, settings: Settings
) -> None:
    capped = dataclasses.replace(settings, idempotency_keys_per_api_key=2)
    async with app_client(capped, neo4j) as client:
        first = await _rest(client, "order-1", "doc@hillvalley.edu", None)
        await _rest(client, "order-2", "marty@hillvalley.edu", None)
        contacts = await _count(driver, neo4j.database, COUNT)
        refused = await _rest(client, "order-3", "biff@hillvalley.edu", None)
        refused_graphql = await _graphql(
            client, email="biff@hillvalley.edu", idempotencyKey="order-4"
        )
        replayed = await _rest(client, "order-1", "doc@hillvalley.edu", None)
        without_key = await _rest(client, None, "biff@hillvalley.edu", None)

    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "idempotency_keys_exhausted"
    assert refused_graphql["code"] == "idempotency_keys_exhausted"
    assert replayed.json() == first.json()
    assert without_key.status_code == 200
    assert await _count(driver, neo4j.database, COUNT) == contacts + 1  # biff, once, unkeyed
    keys, _, _ = await driver.execute_query(
        "MATCH (k:IdempotencyKey) RETURN count(k) AS keys, count(k.answer) AS answered",
        database_=neo4j.database,
    )
    assert (keys[0]["keys"], keys[0]["answered"]) == (2, 2)  # no empty key left behind


async def test_a_key_stores_ids_never_values(
    client: httpx.AsyncClient, driver: AsyncDriver, database: str
) -> None:
    # A caller with fresh keys on a large cluster would otherwise store a copy of all of its
    # values per key (and erasure would have to find them all).
    await _rest(client, None, "lorraine@hillvalley.edu", "5550100199")
    await _rest(client, None, "mcfly@hillvalley.edu", "5550100199")
    first = await _rest(client, "order-1001", "george@hillvalley.edu", "5550100199")
    again = await _rest(client, "order-1001", "george@hillvalley.edu", "5550100199")

    records, _, _ = await driver.execute_query(
        "MATCH (k:IdempotencyKey) RETURN properties(k) AS stored", database_=database
    )
    stored = str([record["stored"] for record in records])
    for value in ("lorraine", "mcfly", "george", "5550100199"):
        assert value not in stored
    assert again.json() == first.json()
    assert len(first.json()["contact"]["emails"]) == 3


async def test_a_replayed_key_gets_the_first_answer_and_writes_nothing(
    client: httpx.AsyncClient, driver: AsyncDriver, database: str
) -> None:
    first = await _rest(client, "order-1001", "lorraine@hillvalley.edu", "123456")
    # The cluster changes meanwhile: the replay still answers as the first request did.
    await _rest(client, None, "mcfly@hillvalley.edu", "123456")
    contacts, events = await _count(driver, database, COUNT), await _count(driver, database, EVENTS)

    again = await _rest(client, "order-1001", "lorraine@hillvalley.edu", "123456")

    assert again.status_code == 200
    assert again.json() == first.json()
    assert again.json()["contact"]["secondaryContactIds"] == []
    assert await _count(driver, database, COUNT) == contacts
    assert await _count(driver, database, EVENTS) == events


async def test_a_key_reused_with_another_body_is_refused(
    client: httpx.AsyncClient, driver: AsyncDriver, database: str
) -> None:
    await _rest(client, "order-1002", "doc@hillvalley.edu", "5550101")

    reused = await _rest(client, "order-1002", "doc@hillvalley.edu", "5550102")
    graphql = await _graphql(
        client, email="marty@hillvalley.edu", phoneNumber=None, idempotencyKey="order-1002"
    )

    assert reused.status_code == 422
    assert reused.json()["error"]["code"] == "idempotency_key_reused"
    assert graphql == {
        "__typename": "InvalidInput",
        "code": "idempotency_key_reused",
        "field": "idempotencyKey",
    }
    assert await _count(driver, database, COUNT) == 1


async def test_graphql_replays_through_its_input(client: httpx.AsyncClient) -> None:
    first = await _graphql(client, email="doc@hillvalley.edu", idempotencyKey="k-1")
    await _graphql(client, email="doc@hillvalley.edu", phoneNumber="5550101")
    again = await _graphql(client, email="doc@hillvalley.edu", idempotencyKey="k-1")

    assert again == first
    assert again["phoneNumbers"] == []


@pytest.mark.parametrize("key", ["", "with space", "x" * 256, "naïve"])
async def test_a_malformed_key_is_refused_and_nothing_written(
    client: httpx.AsyncClient, driver: AsyncDriver, database: str, key: str
) -> None:
    response = await client.post(
        "/identify",
        json={"email": "doc@hillvalley.edu"},
        headers={b"Idempotency-Key": key.encode()},
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_idempotency_key"
    assert await _count(driver, database, COUNT) == 0


async def test_32_racing_requests_with_one_key_make_one_contact_and_one_answer(
    client: httpx.AsyncClient, driver: AsyncDriver, database: str
) -> None:
    answers = await asyncio.gather(
        *(_rest(client, "race-1", "biff@hillvalley.edu", "5550199") for _ in range(32))
    )

    assert {response.status_code for response in answers} == {200}
    assert len({response.text for response in answers}) == 1
    assert await _count(driver, database, COUNT) == 1


async def _key(driver: AsyncDriver, database: str, name: str) -> str:
    secret = new_key()
    await ApiKeyStore(driver, database).create(name, key_hash(secret), ("identify", "read"), None)
    return secret


async def test_keys_are_scoped_to_the_api_key(
    driver: AsyncDriver, neo4j: Neo4jConnection, settings: Settings, database: str
) -> None:
    shop_a, shop_b = await _key(driver, database, "shop-a"), await _key(driver, database, "shop-b")
    async with app_client(dataclasses.replace(settings, auth="required"), neo4j) as client:
        a = await client.post(
            "/identify",
            json={"email": "doc@hillvalley.edu"},
            headers={"Authorization": f"Bearer {shop_a}", "Idempotency-Key": "1"},
        )
        b = await client.post(
            "/identify",
            json={"email": "marty@hillvalley.edu"},
            headers={"Authorization": f"Bearer {shop_b}", "Idempotency-Key": "1"},
        )

    assert (a.status_code, b.status_code) == (200, 200)
    assert a.json()["contact"]["emails"] == ["doc@hillvalley.edu"]
    assert b.json()["contact"]["emails"] == ["marty@hillvalley.edu"]
    assert await _count(driver, database, COUNT) == 2
