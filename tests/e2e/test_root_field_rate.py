"""Each root field of a GraphQL document counts against its key's rate, aliases included: one
HTTP request of many aliased mutations costs as many requests."""

from __future__ import annotations

import dataclasses

from neo4j import AsyncDriver

from graphdb.api_keys import ApiKeyStore
from graphdb.driver import Neo4jConnection
from resolvers.core.access import key_hash, new_key
from resolvers.runtime.settings import Settings
from tests.support.app import app_client

COUNT = "MATCH (c:Contact) RETURN count(c) AS contacts"


def _aliased(count: int) -> str:
    """`count` identify mutations in one document, each under an alias."""
    fields = "\n".join(
        f'  m{n}: identify(input: {{email: "marty{n}@hillvalley.edu"}}) {{ __typename }}'
        for n in range(count)
    )
    return f"mutation {{\n{fields}\n}}"


async def test_aliased_mutations_count_one_each_against_the_key_s_rate(
    driver: AsyncDriver, neo4j: Neo4jConnection, settings: Settings
) -> None:
    store = ApiKeyStore(driver, neo4j.database)
    # 2 requests a second, in bursts of 4 (resolvers/http/rate_limits.py).
    slow, quick = new_key(), new_key()
    await store.create("slow", key_hash(slow), ("identify",), 2.0)
    await store.create("quick", key_hash(quick), ("identify",), 1000.0)
    async with app_client(dataclasses.replace(settings, auth="required"), neo4j) as client:
        refused = await client.post(
            "/graphql", json={"query": _aliased(6)}, headers={"authorization": f"Bearer {slow}"}
        )
        contacts, _, _ = await driver.execute_query(COUNT, database_=neo4j.database)
        allowed = await client.post(
            "/graphql", json={"query": _aliased(6)}, headers={"authorization": f"Bearer {quick}"}
        )

    assert refused.status_code == 429
    assert refused.json()["errors"][0]["extensions"]["code"] == "rate_limited"
    assert 1 <= int(refused.headers["Retry-After"]) <= 2
    assert contacts[0]["contacts"] == 0  # nothing ran
    assert allowed.status_code == 200
    assert len(allowed.json()["data"]) == 6
