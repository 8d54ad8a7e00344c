"""Contact ids: unique, never reused, reserved in blocks so that identify takes no global lock."""

from __future__ import annotations

import asyncio
import heapq
from typing import Protocol

from neo4j import AsyncDriver, AsyncManagedTransaction

from graphdb.cypher import RESERVE_CONTACT_IDS
from graphdb.events import CountedRuns, NoEvents, RepositoryEvents


class ContactIdAllocator:
    """Free ids of reserved blocks, lent to identify transactions and kept by those that create.

    A counter read inside identify would be one lock that every creating transaction waits on.
    Instead a short transaction of its own reserves a block, and ids wait here until used. The
    smallest free id is lent to each identify transaction as it starts (its first statement may
    create the contact) and given back unless a committed attempt used it, so sequential
    requests get dense ids in creation order (concurrent ones need not: order is by createdAt).
    An id whose commit failed or is unknown is dropped, never reused.
    """

    def __init__(
        self,
        driver: AsyncDriver,
        database: str,
        block_size: int = 64,
        events: RepositoryEvents | None = None,
    ) -> None:
        if block_size < 1:
            raise ValueError("the id block size must be at least 1")
        self._driver = driver
        self._events = events or NoEvents()
        self._database = database
        self._block_size = block_size
        self._free: list[int] = []
        self._refill = asyncio.Lock()

    async def keep_at_least(self, count: int) -> None:
        """Before a transaction: enough free ids that each one in flight can borrow one."""
        async with self._refill:
            while len(self._free) < count:
                await self._reserve_block()

    def lender(self) -> IdLender:
        return IdLender(self)

    def pop_smallest(self) -> int:
        return heapq.heappop(self._free)

    def give_back(self, contact_id: int) -> None:
        heapq.heappush(self._free, contact_id)

    async def _reserve_block(self) -> None:
        async with self._driver.session(database=self._database) as session:
            # Every service process reserves from the same sequence node: its lock is shared.
            reserve = CountedRuns(_reserve, "reserve_ids", self._events)
            first = await session.execute_write(reserve, self._block_size)
        for contact_id in range(first, first + self._block_size):
            heapq.heappush(self._free, contact_id)


class IdPool(Protocol):
    def pop_smallest(self) -> int: ...

    def give_back(self, contact_id: int) -> None: ...


class IdLender:
    """One request's id: lent before its transaction, the same one on a retry."""

    def __init__(self, allocator: IdPool) -> None:
        self._allocator = allocator
        self._lent: int | None = None

    def lend(self) -> int:
        if self._lent is None:
            self._lent = self._allocator.pop_smallest()
        return self._lent

    def settle(self, *, used: bool) -> None:
        """After a commit: an id lent but not used in the committed attempt goes back."""
        if self._lent is not None and not used:
            self._allocator.give_back(self._lent)
        self._lent = None


async def _reserve(tx: AsyncManagedTransaction, size: int) -> int:
    record = await (await tx.run(RESERVE_CONTACT_IDS, size=size)).single(strict=True)
    first: int = record["first"]
    return first
