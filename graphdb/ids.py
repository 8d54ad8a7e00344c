"""Contact ids: unique, never reused, reserved in blocks so that identify takes no global lock."""

from __future__ import annotations

import asyncio
import heapq

from neo4j import AsyncDriver, AsyncManagedTransaction

from graphdb.cypher import RESERVE_CONTACT_IDS


class ContactIdAllocator:
    """Keeps the free ids of a reserved block; a request takes one before its transaction.

    A counter read inside identify would be one lock that every creating transaction waits on.
    Instead a short transaction of its own reserves a block, and ids live here until used. An id
    is given back only when its transaction committed without using it, so ids of sequential
    requests stay dense; one whose commit failed or is unknown is dropped, never reused.
    """

    def __init__(self, driver: AsyncDriver, database: str, block_size: int = 64) -> None:
        self._driver = driver
        self._database = database
        self._block_size = block_size
        self._free: list[int] = []
        self._refill = asyncio.Lock()

    async def take(self) -> int:
        async with self._refill:
            if not self._free:
                await self._reserve_block()
        # No await between the check above and this pop: no other task can empty the heap here.
        return heapq.heappop(self._free)

    def give_back(self, contact_id: int) -> None:
        heapq.heappush(self._free, contact_id)

    async def _reserve_block(self) -> None:
        async with self._driver.session(database=self._database) as session:
            first = await session.execute_write(_reserve, self._block_size)
        for contact_id in range(first, first + self._block_size):
            heapq.heappush(self._free, contact_id)


async def _reserve(tx: AsyncManagedTransaction, size: int) -> int:
    record = await (await tx.run(RESERVE_CONTACT_IDS, size=size)).single(strict=True)
    first: int = record["first"]
    return first
