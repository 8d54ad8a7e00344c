"""The invariant checker, on graphs written into Neo4j and then broken on purpose."""

from __future__ import annotations

from typing import LiteralString

import pytest
from neo4j import AsyncDriver

from graphdb.consistency import check_graph
from graphdb.repository import ContactRepository

# Each breaks a healthy graph made by the service: lorraine (1) and mcfly (2, secondary of 1),
# george (3) and biff (4) merged into george, and doc (5) alone.
BREAKAGES: list[tuple[str, LiteralString, str]] = [
    (
        "no primary",
        "MATCH (c:Contact {id: 5}) SET c.linkPrecedence = 'secondary'",
        "cluster [5] has 0 primaries",
    ),
    (
        "two primaries",
        "MATCH (c:Contact {id: 2})-[l:LINKED_TO]->() DELETE l SET c.linkPrecedence = 'primary'",
        "cluster [1, 2] has 2 primaries",
    ),
    (
        "primary not the oldest",
        "MATCH (c:Contact {id: 2}) SET c.createdAt = datetime('2000-01-01T00:00:00Z')",
        "cluster [1, 2]: primary 1 is not the oldest (2)",
    ),
    (
        "secondary linked to a secondary",
        "MATCH (c:Contact {id: 4})-[l:LINKED_TO]->(), (m:Contact {id: 2}) "
        "DELETE l CREATE (c)-[:LINKED_TO]->(m)",
        "secondary 4 links to 2, which is no primary",
    ),
    (
        "clusters are not the components",
        "MATCH (c:Contact {id: 5}), (e:Email {value: 'lorraine@hillvalley.edu'}) "
        "SET c.email = e.value CREATE (c)-[:HAS_EMAIL]->(e)",
        "cluster [1, 2, 5] has 2 primaries",
    ),
    (
        "duplicate contact",
        "MATCH (p:Contact {id: 1}) CREATE (:Contact {id: 99, email: p.email, "
        "phoneNumber: p.phoneNumber, linkPrecedence: 'secondary', createdAt: datetime(), "
        "updatedAt: datetime()})-[:LINKED_TO]->(p)",
        "contacts 1 and 99 duplicate",
    ),
]


async def _healthy_graph(repository: ContactRepository) -> None:
    for email, phone in [
        ("lorraine@hillvalley.edu", "123456"),
        ("mcfly@hillvalley.edu", "123456"),
        ("george@hillvalley.edu", "919191"),
        ("biffsucks@hillvalley.edu", "717171"),
        ("george@hillvalley.edu", "717171"),
        ("doc@hillvalley.edu", None),
    ]:
        await repository.identify(email, phone)


async def test_a_graph_made_by_the_service_is_clean(
    repository: ContactRepository, driver: AsyncDriver, database: str
) -> None:
    await _healthy_graph(repository)

    assert await check_graph(driver, database) == []


@pytest.mark.parametrize(
    ("breakage", "expected"),
    [(case[1], case[2]) for case in BREAKAGES],
    ids=[case[0] for case in BREAKAGES],
)
async def test_the_checker_catches_each_breakage(
    repository: ContactRepository,
    driver: AsyncDriver,
    database: str,
    breakage: LiteralString,
    expected: str,
) -> None:
    await _healthy_graph(repository)
    await driver.execute_query(breakage, database_=database)

    violations = await check_graph(driver, database)

    assert any(expected in violation for violation in violations), violations
