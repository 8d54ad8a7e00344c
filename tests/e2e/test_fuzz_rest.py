"""Schemathesis fuzzes the REST shim, served by a real uvicorn process, from its OpenAPI text:
inputs that fit the description and inputs that do not. No answer is a 5xx, and a rejected
request writes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from neo4j import Driver, GraphDatabase
from schemathesis import GenerationMode

from graphdb.driver import Neo4jConnection
from resolvers.rest.openapi import OPENAPI
from tests.support.service import Service

COUNT_NODES = "MATCH (n) WHERE n:Contact OR n:Email OR n:Phone RETURN count(n) AS n"

schema = schemathesis.openapi.from_dict(OPENAPI)
schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])


@pytest.fixture(scope="module")
def service(neo4j: Neo4jConnection, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    # No warm-up: its scratch customers would count as nodes written.
    running = Service(
        neo4j, Path(tmp_path_factory.mktemp("fuzz")) / "service.log", {"WARM_UP_SECONDS": "0"}
    )
    running.start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def sync_driver(neo4j: Neo4jConnection) -> Iterator[Driver]:
    auth = (neo4j.user, neo4j.password) if neo4j.password else None
    with GraphDatabase.driver(neo4j.uri, auth=auth) as driver:
        yield driver


def _nodes(driver: Driver, database: str) -> int:
    records, _, _ = driver.execute_query(COUNT_NODES, database_=database)
    count: int = records[0]["n"]
    return count


@schema.parametrize()
@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_rest_shim_never_fails_and_rejections_write_nothing(
    case: schemathesis.Case[Any], service: Service, sync_driver: Driver, neo4j: Neo4jConnection
) -> None:
    before = _nodes(sync_driver, neo4j.database)

    response = case.call(base_url=service.url)

    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert set(response.json()["error"]) == {"code", "message"}
        assert _nodes(sync_driver, neo4j.database) == before
