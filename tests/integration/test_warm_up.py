"""Warming Neo4j up: scratch customers only, real ones untouched, none left afterwards, and it
gives way as soon as real traffic arrives."""

from __future__ import annotations

import asyncio

import pytest
from neo4j import AsyncDriver

from graphdb.consistency import check_graph
from graphdb.identify_tx import LinkRules
from graphdb.repository import ContactRepository, RepositoryLimits

# Far more than the warm-up needs on the tests' Neo4j; the test that stops it early must beat it.
BOUND = 60.0

SCRATCH = """
MATCH (n) WHERE (n:Contact AND n.id < 0)
   OR ((n:Email OR n:Phone) AND n.value STARTS WITH 'warm up ')
   OR (n:Event AND any(id IN n.contactIds WHERE id < 0))
RETURN labels(n) AS labels, properties(n) AS properties, COUNT { (n)--() } AS edges
"""


async def _scratch_nodes(driver: AsyncDriver, database: str) -> list[str]:
    """Each scratch node left, described: what a failure needs to say what the clean-up missed."""
    records, _, _ = await driver.execute_query(SCRATCH, database_=database)
    return [f"{r['labels']} {r['properties']} edges={r['edges']}" for r in records]


@pytest.mark.parametrize("link", [LinkRules(), LinkRules(2, 2)], ids=["default", "tiny caps"])
async def test_warm_up_leaves_no_scratch_customer_and_real_ones_untouched(
    driver: AsyncDriver, database: str, link: LinkRules
) -> None:
    # However small the service's caps, scratch traffic makes no hub the clean-up cannot reach.
    repository = ContactRepository(driver, database, RepositoryLimits(link=link))
    await repository.prepare()
    before = await repository.identify("doc@hillvalley.edu", "5550101")

    report = await repository.warm_up(bound=5.0)

    assert len(report.rounds) > 1  # so rounds deleted the rounds before them, too
    assert repository.warmed_up
    assert await _scratch_nodes(driver, database) == []
    # The real customer is as it was: alone in its cluster, never linked to scratch values.
    after = await repository.cluster_by_email("doc@hillvalley.edu")
    assert after == before.cluster
    assert await check_graph(driver, database) == []


async def test_warm_up_gives_way_when_real_traffic_arrives(
    repository: ContactRepository, driver: AsyncDriver, database: str
) -> None:
    await repository.prepare()
    warming = asyncio.create_task(repository.warm_up(bound=BOUND))

    sent = 0
    async with asyncio.timeout(BOUND / 2):
        while not warming.done():
            await repository.identify(f"customer{sent}@hillvalley.edu", None)
            sent += 1
    report = await warming

    assert report.yielded
    assert report.ended_by == "real traffic arrived meanwhile"
