"""Shared fixtures: one real Neo4j per test session, a wiped database and a fresh app per test."""

from __future__ import annotations

import dataclasses
import io
import logging
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from neo4j import AsyncDriver, Driver, GraphDatabase
from neo4j.exceptions import Neo4jError, ServiceUnavailable

from graphdb.driver import Neo4jConnection, create_driver
from graphdb.local.server import LocalNeo4j, LocalNeo4jConfig, LocalNeo4jError, free_port
from graphdb.repository import ContactRepository
from resolvers.runtime.logs import configure_logging
from resolvers.runtime.settings import Settings
from tests.support.app import app_client
from tests.support.database import COUNT_DATA_AND_MARKERS, MARK, WIPE, wipe
from tests.support.logs import LOG_HASH


def _docker_answers() -> bool:
    # docker-py leaks its socket when the engine is missing, so look for one first.
    if not os.environ.get("DOCKER_HOST") and not Path("/var/run/docker.sock").exists():
        return False
    import docker  # noqa: PLC0415 - only needed when no NEO4J_URI is set

    try:
        engine = docker.from_env(timeout=3)
    except Exception:  # any failure means "no Docker engine here"
        return False
    try:
        engine.ping()
    except Exception:
        return False
    finally:
        engine.close()
    return True


@pytest.fixture(scope="session")
def local_neo4j(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNeo4j]:
    """The project's own server from Maven Central jars, in a throwaway home on free ports."""
    home: Path = tmp_path_factory.mktemp("neo4j-home")
    server = LocalNeo4j(
        LocalNeo4jConfig(home, free_port(), free_port(), heap="1g", page_cache="256m")
    )
    try:
        server.start()
    except LocalNeo4jError as error:
        pytest.fail(f"No Neo4j for the tests: {error}\nOr set NEO4J_URI.", pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def neo4j_server(request: pytest.FixtureRequest) -> Iterator[Neo4jConnection]:
    """NEO4J_URI if set; else testcontainers when Docker answers; else the project's own server."""
    if uri := os.environ.get("NEO4J_URI"):
        yield Neo4jConnection(
            uri,
            os.environ.get("NEO4J_USER", "neo4j"),
            os.environ.get("NEO4J_PASSWORD"),
            os.environ.get("NEO4J_DATABASE", "neo4j"),
        )
        return
    if _docker_answers():
        from testcontainers.community.neo4j import Neo4jContainer  # noqa: PLC0415

        with Neo4jContainer("neo4j:5.26.30-community", password="test-password") as container:
            yield Neo4jConnection(container.get_connection_url(), "neo4j", "test-password")
        return
    server: LocalNeo4j = request.getfixturevalue("local_neo4j")
    yield server.connection


@pytest.fixture(scope="session")
def neo4j(neo4j_server: Neo4jConnection) -> Neo4jConnection:
    """The connection, once checked reachable and safe to wipe."""
    auth = (neo4j_server.user, neo4j_server.password) if neo4j_server.password else None
    try:
        with GraphDatabase.driver(
            neo4j_server.uri, auth=auth, notifications_min_severity="OFF"
        ) as driver:
            driver.verify_connectivity()
            records, _, _ = driver.execute_query(
                COUNT_DATA_AND_MARKERS, database_=neo4j_server.database
            )
            if records[0]["data"] and not records[0]["markers"]:
                pytest.fail(
                    f"{neo4j_server.uri} holds data the tests did not write; they wipe their "
                    "database, so point NEO4J_URI at an empty one.",
                    pytrace=False,
                )
            driver.execute_query(MARK, database_=neo4j_server.database)
    except (ServiceUnavailable, Neo4jError) as error:
        pytest.fail(f"Neo4j at {neo4j_server.uri} is not usable: {error}", pytrace=False)
    return neo4j_server


@pytest.fixture
def database(neo4j: Neo4jConnection) -> str:
    return neo4j.database


@pytest.fixture
async def driver(neo4j: Neo4jConnection) -> AsyncIterator[AsyncDriver]:
    async with create_driver(neo4j) as driver:
        await wipe(driver, neo4j.database)
        yield driver


@pytest.fixture
def repository(driver: AsyncDriver, neo4j: Neo4jConnection) -> ContactRepository:
    return ContactRepository(driver, neo4j.database)


@pytest.fixture
def settings() -> Settings:
    # No warm-up: the session's Neo4j is warmed by the tests themselves, and tests/e2e/
    # test_warm_up.py checks the warm-up on its own. The addresses are the defaults whatever the
    # caller's environment says (a user who moved Neo4j off 7474 still gets a green suite); the
    # tests reach Neo4j through the `neo4j` fixture, never through these.
    return dataclasses.replace(
        Settings.from_environment(env_file=None),
        host="127.0.0.1",
        port=8000,
        neo4j_bolt_port=7687,
        neo4j_http_port=7474,
        allowed_hosts=("localhost", "127.0.0.1", "::1", "[::1]"),
        request_timeout=30.0,
        warm_up_seconds=0.0,
        # Readiness tests see each change at once; tests/e2e/test_health.py checks the cache.
        readyz_cache_seconds=0.0,
    )


@pytest.fixture
async def client(
    driver: AsyncDriver, neo4j: Neo4jConnection, settings: Settings
) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(settings, neo4j) as client:
        yield client


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """What the service logs during a test, as the JSON lines it writes by default, hashing with
    tests.support.logs.LOG_HASH."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    output = io.StringIO()
    configure_logging("debug", stream=output, log_hash=LOG_HASH)
    try:
        yield output
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)


@pytest.fixture
def graph(neo4j: Neo4jConnection) -> Iterator[Driver]:
    """A wiped database and a sync driver, for sync tests that run the `identity` command (it
    runs an event loop of its own, so it cannot be called from an async test)."""
    auth = (neo4j.user, neo4j.password) if neo4j.password else None
    with GraphDatabase.driver(neo4j.uri, auth=auth, notifications_min_severity="OFF") as driver:
        driver.execute_query(WIPE, database_=neo4j.database)
        yield driver
