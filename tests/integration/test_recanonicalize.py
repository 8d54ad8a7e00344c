"""`identity recanonicalize`: stored values rewritten under new rules, values that became equal
joined with the usual merge rules, and a dry run that writes nothing."""

from __future__ import annotations

import subprocess

from neo4j import AsyncDriver, Driver

from graphdb.consistency import check_graph
from graphdb.driver import Neo4jConnection
from graphdb.identify_tx import LinkRules
from graphdb.recanonicalize import plan_rewrites, rewrite
from graphdb.repository import ContactRepository, RepositoryLimits
from resolvers.cli.recanonicalize import canonical_now
from resolvers.core.identifiers import IdentifierRules
from resolvers.core.identify import identify
from tests.support.cli import IDENTITY, cli_env

NO_REGION = IdentifierRules()
US = IdentifierRules(phone_region="US")

STATE = """
MATCH (c:Contact)
OPTIONAL MATCH (c)-[:LINKED_TO]->(p:Contact)
RETURN c.email AS email, c.phoneNumber AS phone, c.phoneNumberAsSent AS asSent,
       coalesce(p, c).email AS primaryEmail
ORDER BY email
"""


async def _seed_two_spellings(repository: ContactRepository) -> None:
    # Without a region the national number keeps its digits: two values, two clusters.
    await identify(repository, NO_REGION, "doc@hillvalley.edu", "555-010-0199")
    await identify(repository, NO_REGION, "marty@hillvalley.edu", "+1 555 010 0199")
    await identify(repository, NO_REGION, "jen@hillvalley.edu", "555 010 0199")


async def _state(driver: AsyncDriver, database: str) -> list[tuple[object, ...]]:
    records, _, _ = await driver.execute_query(STATE, database_=database)
    return [tuple(record.values()) for record in records]


async def _run(driver: AsyncDriver, database: str, link: LinkRules, dry_run: bool) -> list[bool]:
    plan = await plan_rewrites(driver, database, lambda kind, value: canonical_now(US, kind, value))
    held = []
    async with driver.session(database=database) as session:
        for change in plan.rewrites:
            if dry_run:
                transaction = await session.begin_transaction()
                result = await rewrite(transaction, change, link, True)
                await transaction.rollback()
            else:
                result = await session.execute_write(rewrite, change, link, False)
            held.append(result.held_back)
    return held


async def test_values_that_became_equal_are_joined(
    repository: ContactRepository, driver: AsyncDriver, database: str
) -> None:
    await _seed_two_spellings(repository)

    assert await _run(driver, database, LinkRules(), dry_run=False) == [False]

    assert await _state(driver, database) == [
        ("doc@hillvalley.edu", "+15550100199", "555-010-0199", "doc@hillvalley.edu"),
        ("jen@hillvalley.edu", "+15550100199", "555 010 0199", "doc@hillvalley.edu"),
        ("marty@hillvalley.edu", "+15550100199", "+1 555 010 0199", "doc@hillvalley.edu"),
    ]
    assert await check_graph(driver, database) == []
    # The service with the new rules finds the one cluster by any spelling.
    record = await identify(repository, US, None, "(555) 010-0199")
    assert len(record.cluster.contacts) == 3
    # Nothing is left to rewrite.
    assert await _run(driver, database, LinkRules(), dry_run=False) == []


async def test_a_dry_run_changes_nothing(
    repository: ContactRepository, driver: AsyncDriver, database: str
) -> None:
    await _seed_two_spellings(repository)
    before = await _state(driver, database)
    nodes, _, _ = await driver.execute_query("MATCH (n) RETURN count(n) AS n", database_=database)

    assert await _run(driver, database, LinkRules(), dry_run=True) == [False]

    assert await _state(driver, database) == before
    after, _, _ = await driver.execute_query("MATCH (n) RETURN count(n) AS n", database_=database)
    assert after[0]["n"] == nodes[0]["n"]


async def test_a_join_past_the_cluster_cap_is_held_back(driver: AsyncDriver, database: str) -> None:
    small = LinkRules(max_cluster_contacts=2)
    repository = ContactRepository(driver, database, RepositoryLimits(link=small))
    await _seed_two_spellings(repository)
    before = await _state(driver, database)

    assert await _run(driver, database, small, dry_run=False) == [True]

    assert await _state(driver, database) == before
    assert await check_graph(driver, database) == []


def test_the_command_reports_and_rewrites(graph: Driver, neo4j: Neo4jConnection) -> None:
    graph.execute_query(
        "CREATE (:Contact {id: 1, email: 'doc@hillvalley.edu', phoneNumber: '5550100199',"
        " linkPrecedence: 'primary', createdAt: datetime(), updatedAt: datetime()})"
        "-[:HAS_PHONE]->(:Phone {value: '5550100199'})",
        database_=neo4j.database,
    )

    def command(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603
            [IDENTITY, "recanonicalize", *args],
            env=cli_env(neo4j, PHONE_DEFAULT_REGION="US"),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    dry = command("--dry-run", "--show-pii")
    done = command("--show-pii")
    hidden = command("--dry-run")

    assert dry.returncode == done.returncode == 0, dry.stderr + done.stderr
    assert "phone 5550100199 -> +15550100199: would change" in dry.stdout
    assert "phone 5550100199 -> +15550100199: 1 contacts moved" in done.stdout
    assert "rewrote 1 value(s)" in done.stdout
    assert "would rewrite 0 value(s)" in hidden.stdout
    records, _, _ = graph.execute_query(
        "MATCH (c:Contact)-[:HAS_PHONE]->(p:Phone) RETURN c.phoneNumber AS phone, p.value AS node",
        database_=neo4j.database,
    )
    assert [(r["phone"], r["node"]) for r in records] == [("+15550100199", "+15550100199")]


async def test_two_spellings_of_one_pair_become_one_pair_the_checker_allows(
    repository: ContactRepository, driver: AsyncDriver, database: str
) -> None:
    await identify(repository, NO_REGION, "doc@hillvalley.edu", "555-010-0199")
    await identify(repository, NO_REGION, "doc@hillvalley.edu", "+1 555 010 0199")
    # A value whose new form is blocked stays as it is (it linked before the blocklist knew it).
    await driver.execute_query(
        "CREATE (:Contact {id: 99, phoneNumber: '000-000-0000',"
        " linkPrecedence: 'primary', createdAt: datetime(), updatedAt: datetime()})"
        "-[:HAS_PHONE]->(:Phone {value: '000-000-0000'})",
        database_=database,
    )
    # And a value nobody carries is rewritten without a cluster to join.
    await driver.execute_query("CREATE (:Phone {value: '555.010.0177'})", database_=database)

    assert await _run(driver, database, LinkRules(), dry_run=False) == [False, False]

    records, _, _ = await driver.execute_query(
        "MATCH (p:Phone) RETURN p.value AS value ORDER BY value", database_=database
    )
    assert [r["value"] for r in records] == ["+15550100177", "+15550100199", "000-000-0000"]
    assert await check_graph(driver, database) == []


async def test_a_conflict_follows_the_rewrite_of_its_value(
    driver: AsyncDriver, database: str
) -> None:
    small = LinkRules(max_cluster_contacts=2)
    repository = ContactRepository(driver, database, RepositoryLimits(link=small))
    await identify(repository, NO_REGION, "doc@hillvalley.edu", "555-010-0199")
    await identify(repository, NO_REGION, "jen@hillvalley.edu", "555-010-0199")
    await identify(repository, NO_REGION, "marty@hillvalley.edu", "555-010-0188")
    held = await identify(repository, NO_REGION, "marty@hillvalley.edu", "555-010-0199")
    assert held.warnings

    assert await _run(driver, database, small, dry_run=False) == [False, False]

    (conflict,) = await repository.conflicts(10, None)
    assert conflict.phone_number == "+15550100199"
    assert await check_graph(driver, database) == []


async def test_erasing_a_joined_value_takes_its_hash_off_the_merge(
    repository: ContactRepository, driver: AsyncDriver, database: str
) -> None:
    # The merge recanonicalize makes names the value it joined by: erasure must find it.
    await _seed_two_spellings(repository)
    token = "phone:00112233445566ff"
    plan = await plan_rewrites(driver, database, lambda kind, value: canonical_now(US, kind, value))
    async with driver.session(database=database) as session:
        for change in plan.rewrites:
            await session.execute_write(rewrite, change, LinkRules(), False, token=token)
    merged, _, _ = await driver.execute_query(
        "MATCH (e:Event {kind: 'MERGED'}) RETURN count(e) AS n", database_=database
    )

    await repository.erase_identifier(None, "+15550100199")

    left, _, _ = await driver.execute_query(
        "MATCH (e:Event) WHERE e.bridgeHash = $token RETURN count(e) AS n",
        token=token,
        database_=database,
    )
    assert merged[0]["n"] > 0
    assert left[0]["n"] == 0
    assert await check_graph(driver, database) == []
