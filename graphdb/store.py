"""What the small stores beside the repository share: a bounded session on one database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from neo4j import AsyncDriver, AsyncSession

from graphdb.errors import unavailable_as_error


class Store:
    """One managed transaction per method, bounded by `timeout`; an unreachable Neo4j raises
    DatabaseUnavailable."""

    def __init__(self, driver: AsyncDriver, database: str, timeout: float = 10.0) -> None:
        self._driver = driver
        self._database = database
        self._timeout = timeout

    @asynccontextmanager
    async def _session(self) -> AsyncIterator[AsyncSession]:
        async with (
            unavailable_as_error(),
            asyncio.timeout(self._timeout),
            self._driver.session(database=self._database) as session,
        ):
            yield session
