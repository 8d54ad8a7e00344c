"""The overlapping-request race: client sessions on a few shared values, and the answer checks."""

from __future__ import annotations

import random
from typing import Any

import httpx
from neo4j import AsyncDriver

CLIENTS = 48
REQUESTS_PER_CLIENT = 12
# Few values for many clients: requests keep meeting on the same emails and phones, so clusters
# grow and merge while other requests read and extend them.
EMAILS = [f"user{n}@example.com" for n in range(8)]
PHONES = [f"55500{n}" for n in range(8)]

# A request body and the contact it was answered with.
Acknowledged = tuple[dict[str, Any], dict[str, Any]]


def random_body(rng: random.Random) -> dict[str, Any]:
    shape = rng.random()
    if shape < 0.6:
        return {"email": rng.choice(EMAILS), "phoneNumber": rng.choice(PHONES)}
    if shape < 0.8:
        return {"email": rng.choice(EMAILS)}
    return {"phoneNumber": rng.choice(PHONES)}


async def client_session(client: httpx.AsyncClient, seed: int) -> list[Acknowledged]:
    """REQUESTS_PER_CLIENT requests one after another, as one customer-facing client sends them;
    every one must be answered 200."""
    rng = random.Random(seed)
    acknowledged = []
    for _ in range(REQUESTS_PER_CLIENT):
        body = random_body(rng)
        response = await client.post("/identify", json=body)
        assert response.status_code == 200, response.text
        acknowledged.append((body, response.json()["contact"]))
    return acknowledged


async def cluster_values(
    driver: AsyncDriver, database: str, contact_id: int
) -> tuple[set[str], set[str]]:
    records, _, _ = await driver.execute_query(
        """
        MATCH (member:Contact {id: $id})
        OPTIONAL MATCH (member)-[:LINKED_TO]->(linked:Contact)
        WITH coalesce(linked, member) AS primary
        MATCH (c:Contact) WHERE c = primary OR (c)-[:LINKED_TO]->(primary)
        RETURN collect(c.email) AS emails, collect(c.phoneNumber) AS phones
        """,
        id=contact_id,
        database_=database,
    )
    return set(records[0]["emails"]), set(records[0]["phones"])


async def assert_every_answer_reflected(
    driver: AsyncDriver, database: str, acknowledged: list[Acknowledged]
) -> None:
    for body, answer in acknowledged:
        # Each answer was a whole cluster holding what the request brought...
        if body.get("email"):
            assert body["email"] in answer["emails"]
        if body.get("phoneNumber"):
            assert body["phoneNumber"] in answer["phoneNumbers"]
        # ...and it still is: the primary it was told is in a cluster holding both.
        emails, phones = await cluster_values(driver, database, answer["primaryContatctId"])
        assert body.get("email") is None or body["email"] in emails
        assert body.get("phoneNumber") is None or body["phoneNumber"] in phones
