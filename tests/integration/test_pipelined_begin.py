"""The driver pinned in pyproject.toml pipelines BEGIN, and transactions run correctly with it."""

from __future__ import annotations

import contextlib

from neo4j import AsyncDriver, AsyncManagedTransaction

from graphdb.driver import pipelined_begin


async def _create_and_count(tx: AsyncManagedTransaction) -> int:
    await tx.run("CREATE (:PipelinedBegin)")
    record = await (await tx.run("MATCH (n:PipelinedBegin) RETURN count(n) AS n")).single()
    assert record is not None
    count: int = record["n"]
    return count


async def test_a_managed_transaction_pipelines_begin_and_commits(
    driver: AsyncDriver, database: str
) -> None:
    async with driver.session(database=database) as session:
        switch = pipelined_begin(session)
        # A driver upgrade that drops the private switch fails here, not silently slower.
        assert not isinstance(switch, contextlib.nullcontext)
        with switch:
            seen_inside = await session.execute_write(_create_and_count)

    records, _, _ = await driver.execute_query(
        "MATCH (n:PipelinedBegin) RETURN count(n) AS n", database_=database
    )
    assert (seen_inside, records[0]["n"]) == (1, 1)
