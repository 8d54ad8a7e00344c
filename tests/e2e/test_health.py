"""/healthz answers while the process lives; /readyz only while Neo4j has what identify needs."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import httpx
import yaml
from neo4j import AsyncDriver

from graphdb.driver import Neo4jConnection, ensure_constraints
from resolvers.runtime.settings import Settings
from tests.support.app import app_client

ROOT = Path(__file__).resolve().parents[2]


async def test_healthz_answers_ok(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_answers_ready_once_the_constraints_are_made(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ready"}


async def test_readyz_names_a_missing_uniqueness_constraint(
    client: httpx.AsyncClient, driver: AsyncDriver, database: str
) -> None:
    await driver.execute_query("DROP CONSTRAINT email_value", database_=database)
    try:
        response = await client.get("/readyz")
    finally:
        await ensure_constraints(driver, database)

    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "reason": "uniqueness constraints missing: Email.value",
    }
    assert (await client.get("/readyz")).status_code == 200


async def test_readyz_asks_neo4j_at_most_once_per_cache_period(
    driver: AsyncDriver, database: str, neo4j: Neo4jConnection, settings: Settings
) -> None:
    # Open to anyone: a flood of /readyz must not become a flood of Neo4j queries. A period far
    # longer than the test shows the second answer is the first one's, not a new check.
    cached = dataclasses.replace(settings, readyz_cache_seconds=3600.0)
    async with app_client(cached, neo4j) as client:
        first = await client.get("/readyz")
        await driver.execute_query("DROP CONSTRAINT email_value", database_=database)
        try:
            again = await asyncio.gather(*(client.get("/readyz") for _ in range(20)))
        finally:
            await ensure_constraints(driver, database)

    assert first.status_code == 200
    assert [response.status_code for response in again] == [200] * 20


def test_compose_checks_the_service_on_readyz_and_keeps_neo4j_s_own_check() -> None:
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    command = services["identity"]["healthcheck"]["test"]

    assert command[:3] == ["CMD", "python", "-c"]
    assert "/readyz" in command[3]
    compile(command[3], "healthcheck", "exec")
    assert "7474" in " ".join(services["neo4j"]["healthcheck"]["test"])
