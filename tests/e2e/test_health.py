"""/healthz answers while the process lives; /readyz only while Neo4j has what identify needs."""

from __future__ import annotations

from pathlib import Path

import httpx
import yaml
from neo4j import AsyncDriver

from graphdb.driver import ensure_constraints

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


def test_compose_checks_the_service_on_readyz_and_keeps_neo4j_s_own_check() -> None:
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    command = services["identity"]["healthcheck"]["test"]

    assert command[:3] == ["CMD", "python", "-c"]
    assert "/readyz" in command[3]
    compile(command[3], "healthcheck", "exec")
    assert "7474" in " ".join(services["neo4j"]["healthcheck"]["test"])
