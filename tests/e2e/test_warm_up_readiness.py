"""/readyz answers 503 while the service warms Neo4j up, identify is served meanwhile, and the
warm-up is logged when it ends."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json

import httpx
from neo4j import AsyncDriver

from graphdb.driver import Neo4jConnection
from resolvers.runtime.settings import Settings
from tests.support.app import app_client

# The warm-up reads Neo4j's compiler over three windows of 2 s, so it is under way when
# the app has just started; it ends by this bound whatever happens.
BOUND = 5.0


async def _until_ready(client: httpx.AsyncClient) -> None:
    """Polls /readyz as a load balancer does; the caller bounds how long."""
    ready = False
    while not ready:
        ready = (await client.get("/readyz")).status_code == 200
        await asyncio.sleep(0 if ready else 0.1)


async def test_readyz_waits_for_the_warm_up_which_is_logged(
    neo4j: Neo4jConnection,
    settings: Settings,
    driver: AsyncDriver,
    log_output: io.StringIO,
) -> None:
    warming = dataclasses.replace(settings, warm_up_seconds=BOUND)
    async with app_client(warming, neo4j) as client:
        first = await client.get("/readyz")
        served = await client.post("/identify", json={"email": "doc@hillvalley.edu"})
        async with asyncio.timeout(BOUND + 30):
            await _until_ready(client)

    assert first.status_code == 503
    assert first.json() == {"status": "unavailable", "reason": "warming Neo4j up"}
    assert served.status_code == 200
    messages = [json.loads(line)["message"] for line in log_output.getvalue().splitlines()]
    assert any(message.startswith("Neo4j warmed up in ") for message in messages)
