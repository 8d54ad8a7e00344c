"""Fail fast while Neo4j is down; a background probe reopens the way once Neo4j answers again."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from neo4j.exceptions import ServiceUnavailable, SessionExpired

from graphdb.errors import DatabaseUnavailable

log = logging.getLogger(__name__)

# Failures that mean "the server cannot be reached", as opposed to contention or slowness.
# (A pool that hands out no connection in time is contention, not an outage.)
UNREACHABLE = (ServiceUnavailable, SessionExpired)


class OutageGate:
    """Without it, every request during an outage spends the driver's whole retry budget, and the
    first crowd after a Neo4j restart plans every statement at once on a cold server and times
    out. While the gate is shut, requests get DatabaseUnavailable at once; one background task
    probes (the probe plans the statements again, as a restarted Neo4j has lost its plans) and
    opens the gate when it succeeds.
    """

    def __init__(
        self,
        probe: Callable[[], Awaitable[None]],
        probe_interval: float = 1.0,
        probe_timeout: float = 60.0,
    ) -> None:
        self._probe = probe
        self._probe_interval = probe_interval
        self._probe_timeout = probe_timeout
        self._shut = False
        self._prober: asyncio.Task[None] | None = None

    @asynccontextmanager
    async def passage(self) -> AsyncIterator[None]:
        if self._shut:
            self._keep_probing()
            raise DatabaseUnavailable("Neo4j is unreachable; waiting for it to come back")
        try:
            yield
        except UNREACHABLE:
            self._shut = True
            self._keep_probing()
            raise

    def _keep_probing(self) -> None:
        if self._prober is None or self._prober.done():
            self._prober = asyncio.create_task(self._probe_until_open())

    async def _probe_until_open(self) -> None:
        while self._shut:
            await asyncio.sleep(self._probe_interval)
            try:
                async with asyncio.timeout(self._probe_timeout):
                    await self._probe()
            except Exception as error:  # whatever fails, the gate stays shut and probes on
                log.info("Neo4j still unavailable: %s", type(error).__name__)
            else:
                log.warning("Neo4j is reachable again")
                self._shut = False

    async def close(self) -> None:
        if self._prober is not None:
            self._prober.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._prober
