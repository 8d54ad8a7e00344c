"""How much each store that grows with requests holds now: the ledger's events, idempotency keys,
conflicts, the outbox's undelivered events, and webhooks' dead letters. Each is a count Neo4j
keeps per label, read without touching a node (docs/operations.md says what bounds each)."""

from __future__ import annotations

from typing import LiteralString

from neo4j import AsyncManagedTransaction

from graphdb.store import Store

# Each count from Neo4j's count store (NodeCountFromCountStore): constant time at any size.
STORE_SIZES: LiteralString = """
CALL () { MATCH (event:Event) RETURN count(event) AS events }
CALL () { MATCH (key:IdempotencyKey) RETURN count(key) AS idempotencyKeys }
CALL () { MATCH (conflict:Conflict) RETURN count(conflict) AS conflicts }
CALL () { MATCH (waiting:Outbox) RETURN count(waiting) AS outbox }
CALL () { MATCH (letter:DeadLetter) RETURN count(letter) AS deadLetters }
RETURN events, idempotencyKeys, conflicts, outbox, deadLetters
"""

STORES = ("events", "idempotencyKeys", "conflicts", "outbox", "deadLetters")


class StoreSizes(Store):
    async def read(self) -> dict[str, int]:
        """Nodes in each store, by its name in STORES."""
        async with self._session() as session:
            return await session.execute_read(_sizes)


async def _sizes(tx: AsyncManagedTransaction) -> dict[str, int]:
    record = await (await tx.run(STORE_SIZES)).single(strict=True)
    return {store: int(record[store]) for store in STORES}
