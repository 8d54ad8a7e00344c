"""Health endpoints: /healthz (the process answers) and /readyz (it can serve identify now)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from graphdb.errors import DatabaseUnavailable
from graphdb.repository import ContactRepository


async def healthz(_request: Request) -> JSONResponse:
    """Touches nothing: a Neo4j outage must not get a live process restarted."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    """Ready when Neo4j answers, has the uniqueness constraints identify's locking relies on, and
    has been warmed up since this process started."""
    repository: ContactRepository = request.state.repository
    try:
        # Makes the schema if start-up could not (Neo4j was down then); a no-op once made.
        await repository.prepare()
        missing = await repository.missing_constraints()
    except DatabaseUnavailable as error:
        return _not_ready(str(error))
    if missing:
        return _not_ready(f"uniqueness constraints missing: {', '.join(missing)}")
    if not repository.warmed_up:
        # A fresh Neo4j serves identify several times slower until it has run it a while.
        return _not_ready("warming Neo4j up")
    return JSONResponse({"status": "ready"})


def _not_ready(reason: str) -> JSONResponse:
    return JSONResponse({"status": "unavailable", "reason": reason}, status_code=503)
