"""Fail fast while Neo4j is down: one request probes, the others are answered 503 at once."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from neo4j.exceptions import ConnectionPoolError, ServiceUnavailable, SessionExpired

from graphdb.errors import DatabaseUnavailable

# Failures that mean "the server cannot be reached", as opposed to contention or slowness.
UNREACHABLE = (ServiceUnavailable, SessionExpired, ConnectionPoolError)


class OutageGate:
    """Without it, every request during an outage spends the driver's whole retry budget."""

    def __init__(self, probe_interval: float = 1.0) -> None:
        self._probe_interval = probe_interval
        self._down = False
        self._next_probe = 0.0
        self._probing = False

    @asynccontextmanager
    async def passage(self) -> AsyncIterator[bool]:
        """Yields True for the one request that probes a Neo4j believed down."""
        probe = False
        if self._down:
            if self._probing or time.monotonic() < self._next_probe:
                raise DatabaseUnavailable("Neo4j was unreachable a moment ago")
            self._probing = probe = True
        try:
            yield probe
        except UNREACHABLE:
            self._down = True
            self._next_probe = time.monotonic() + self._probe_interval
            raise
        else:
            self._down = False
        finally:
            if probe:
                self._probing = False
