"""Real concurrent requests: the invariants of docs/rules.md hold on the graph read back from
Neo4j."""

from __future__ import annotations

import asyncio

import httpx
from neo4j import AsyncDriver

from graphdb.consistency import check_graph
from graphdb.repository import ContactRepository
from tests.support.race import (
    CLIENTS,
    REQUESTS_PER_CLIENT,
    assert_every_answer_reflected,
    client_session,
)


async def test_overlapping_concurrent_requests_keep_every_invariant(
    client: httpx.AsyncClient, driver: AsyncDriver, database: str
) -> None:
    sessions = await asyncio.gather(*(client_session(client, seed) for seed in range(CLIENTS)))
    acknowledged = [pair for session in sessions for pair in session]
    assert len(acknowledged) == CLIENTS * REQUESTS_PER_CLIENT

    assert await check_graph(driver, database) == []
    await assert_every_answer_reflected(driver, database, acknowledged)


async def test_identical_concurrent_requests_create_one_contact(
    client: httpx.AsyncClient, driver: AsyncDriver, database: str
) -> None:
    body = {"email": "twin@example.com", "phoneNumber": "5551234"}
    responses = await asyncio.gather(*(client.post("/identify", json=body) for _ in range(32)))

    answers = {str(response.json()) for response in responses}
    assert [r.status_code for r in responses] == [200] * 32
    assert len(answers) == 1
    records, _, _ = await driver.execute_query(
        "MATCH (c:Contact) RETURN count(c) AS n", database_=database
    )
    assert records[0]["n"] == 1


async def test_identical_concurrent_new_information_adds_one_secondary(
    client: httpx.AsyncClient, driver: AsyncDriver, database: str
) -> None:
    await client.post("/identify", json={"email": "known@example.com", "phoneNumber": "5550000"})
    body = {"email": "known@example.com", "phoneNumber": "5559999"}
    responses = await asyncio.gather(*(client.post("/identify", json=body) for _ in range(32)))

    assert {r.json()["contact"]["secondaryContactIds"].__len__() for r in responses} == {1}
    records, _, _ = await driver.execute_query(
        "MATCH (c:Contact) RETURN count(c) AS n", database_=database
    )
    assert records[0]["n"] == 2
    assert await check_graph(driver, database) == []


async def test_concurrent_merges_of_a_chain_of_clusters_leave_one_primary(
    repository: ContactRepository, driver: AsyncDriver, database: str
) -> None:
    # Ten separate customers, then every neighbouring pair is joined at the same moment.
    for n in range(10):
        await repository.identify(f"c{n}@example.com", f"77700{n}")
    await asyncio.gather(
        *(repository.identify(f"c{n}@example.com", f"77700{n + 1}") for n in range(9))
    )

    records, _, _ = await driver.execute_query(
        "MATCH (c:Contact {linkPrecedence: 'primary'}) RETURN collect(c.id) AS ids",
        database_=database,
    )
    assert records[0]["ids"] == [1]
    assert await check_graph(driver, database) == []


async def test_concurrent_batches_of_several_repositories_take_dense_distinct_ids(
    driver: AsyncDriver, database: str
) -> None:
    # Four repositories stand for four service processes: each batches its own requests, and
    # every batch takes its ids from the one sequence in Neo4j.
    repositories = [ContactRepository(driver, database) for _ in range(4)]
    try:
        records = await asyncio.gather(
            *(
                repositories[n % 4].identify(f"dense{n}@example.com", f"55501{n:04d}")
                for n in range(60)
            )
        )
    finally:
        for repository in repositories:
            await repository.close()

    ids = sorted(record.cluster.primary.id for record in records)
    assert ids == list(range(1, 61))
