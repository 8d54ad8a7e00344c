"""The test database: wiped before each test, and marked so that a database holding anyone
else's data is never wiped."""

from __future__ import annotations

from neo4j import AsyncDriver

# Tests wipe the database they use. A database that holds data without this marker was not
# written by the tests, so they refuse to touch it.
WIPE = "MATCH (n) WHERE NOT n:IdentityTestDatabase DETACH DELETE n"
COUNT_DATA_AND_MARKERS = """
MATCH (n) WHERE NOT n:IdentityTestDatabase
WITH count(n) AS data
OPTIONAL MATCH (marker:IdentityTestDatabase)
RETURN data, count(marker) AS markers
"""
MARK = "MERGE (:IdentityTestDatabase)"


async def wipe(driver: AsyncDriver, database: str) -> None:
    await driver.execute_query(WIPE, database_=database)
