"""Data the current code expects of a database an older version wrote, brought up to date once
(a Migration node records each one done), when the repository prepares."""

from __future__ import annotations

from neo4j import AsyncDriver

from graphdb import cypher

# Contacts labelled by one statement: each is a short transaction beside live traffic.
CHUNK = 10_000


async def migrate(driver: AsyncDriver, database: str) -> None:
    """Idempotent, and safe for several processes at once (each statement re-checks)."""
    records, _, _ = await driver.execute_query(cypher.MIGRATION_DONE, database_=database)
    if records[0]["done"]:
        return
    # Contacts that carry a value linking nobody, from before the Unlinked label (issue 13's
    # data): erasure finds them by it.
    while True:
        records, _, _ = await driver.execute_query(
            cypher.LABEL_UNLINKED_CONTACTS, chunk=CHUNK, database_=database
        )
        if records[0]["labelled"] < CHUNK:
            break
    await driver.execute_query(cypher.MARK_MIGRATION_DONE, database_=database)
