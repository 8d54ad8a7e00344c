"""Health endpoints: /healthz (the process answers) and /readyz (it can serve identify now)."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import JSONResponse

from graphdb.errors import DatabaseUnavailable
from graphdb.repository import ContactRepository


async def healthz(_request: Request) -> JSONResponse:
    """Touches nothing: a Neo4j outage must not get a live process restarted."""
    return JSONResponse({"status": "ok"})


class Readiness:
    """The readiness check, run at most once per `seconds` (READYZ_CACHE_SECONDS) however often
    /readyz is called, and by one caller at a time: anyone may call it, and each check asks
    Neo4j two things."""

    def __init__(
        self,
        repository: ContactRepository,
        seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._repository = repository
        self._seconds = seconds
        self._clock = clock
        self._checked_at = -math.inf
        # Why the last check found the process not ready; None: it was ready.
        self._last: str | None = "not checked yet"
        self._checking = asyncio.Lock()

    async def not_ready_because(self) -> str | None:
        """Why the process is not ready, or None when it is."""
        async with self._checking:
            if self._clock() - self._checked_at >= self._seconds:
                self._last = await self._check()
                self._checked_at = self._clock()
            return self._last

    async def _check(self) -> str | None:
        repository = self._repository
        try:
            # Makes the schema if start-up could not (Neo4j was down then); a no-op once made.
            await repository.prepare()
            missing = await repository.missing_constraints()
        except DatabaseUnavailable as error:
            return str(error)
        if missing:
            return f"uniqueness constraints missing: {', '.join(missing)}"
        if not repository.warmed_up:
            # A fresh Neo4j serves identify several times slower until it has run it a while.
            return "warming Neo4j up"
        return None


async def readyz(request: Request) -> JSONResponse:
    """Ready when Neo4j answers, has the uniqueness constraints identify's locking relies on, and
    has been warmed up since this process started."""
    readiness: Readiness = request.state.readiness
    reason = await readiness.not_ready_because()
    if reason is not None:
        return _not_ready(reason)
    return JSONResponse({"status": "ready"})


def _not_ready(reason: str) -> JSONResponse:
    return JSONResponse({"status": "unavailable", "reason": reason}, status_code=503)
