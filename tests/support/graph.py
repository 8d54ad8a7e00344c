"""Helpers that read the graph back from Neo4j for assertions."""

from __future__ import annotations

from neo4j import AsyncDriver


async def count_nodes(driver: AsyncDriver, database: str) -> int:
    records, _, _ = await driver.execute_query(
        "MATCH (n) WHERE n:Contact OR n:Email OR n:Phone RETURN count(n) AS n", database_=database
    )
    count: int = records[0]["n"]
    return count
