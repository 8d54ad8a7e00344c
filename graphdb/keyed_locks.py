"""In-process locks by key, so requests on the same email or phone queue here, not in Neo4j."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Hashable
from contextlib import AsyncExitStack, asynccontextmanager


class KeyedLocks:
    """One asyncio lock per key in use; a key's lock is dropped when nobody holds or awaits it.

    Neo4j already serialises transactions on the same identifiers (see identify_tx);
    this only makes them wait cheaply in the event loop instead of inside Neo4j, where a crowd
    of waiters on one lock costs CPU. Correctness never depends on it: several processes each
    have their own.
    """

    def __init__(self) -> None:
        self._locks: dict[Hashable, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, keys: list[tuple[str, str]]) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            # Sorted, so that two requests never wait for each other's second key.
            for key in sorted(set(keys)):
                await stack.enter_async_context(self._one(key))
            yield

    @asynccontextmanager
    async def _one(self, key: Hashable) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)
