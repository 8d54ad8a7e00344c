"""Data the current code expects of a database an older version wrote, brought up to date once
(a Migration node records each one done), when the repository prepares."""

from __future__ import annotations

from typing import LiteralString

from neo4j import AsyncDriver

from graphdb import cypher

# Items changed by one statement: each is a short transaction beside live traffic.
CHUNK = 10_000

# In the order they run, by the name their Migration node records.
MIGRATIONS: tuple[tuple[str, LiteralString], ...] = (
    # Contacts that carry a value linking nobody, from before the Unlinked label (issue 13's
    # data): erasure finds them by it.
    ("unlinked-label", cypher.LABEL_UNLINKED_CONTACTS),
    # Keyed hashes of values erased before erasure cleared the ledger of them (issue 22).
    ("erased-hashes", cypher.STRIP_ERASED_HASHES),
)


async def migrate(driver: AsyncDriver, database: str) -> None:
    """Idempotent, and safe for several processes at once (each statement re-checks)."""
    for name, step in MIGRATIONS:
        records, _, _ = await driver.execute_query(
            cypher.MIGRATION_DONE, name=name, database_=database
        )
        if records[0]["done"]:
            continue
        while True:
            records, _, _ = await driver.execute_query(step, chunk=CHUNK, database_=database)
            if records[0]["changed"] < CHUNK:
                break
        await driver.execute_query(cypher.MARK_MIGRATION_DONE, name=name, database_=database)
