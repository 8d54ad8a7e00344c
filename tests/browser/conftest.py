"""Browser tests: real headless Chromium against the service as a real process and a real Neo4j.

Every test here is marked `browser`; `make test` leaves them out, `make test-browser` runs them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver

from graphdb.driver import Neo4jConnection
from graphdb.local.server import LocalNeo4j
from tests.support.browser import BrowserUnavailable, chromium, running_service
from tests.support.service import Service

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture
def chrome() -> Iterator[webdriver.Chrome]:
    try:
        with chromium() as driver:
            yield driver
    except BrowserUnavailable as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture(scope="session")
def service(neo4j: Neo4jConnection, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """The service as `make run` starts it, against the tests' Neo4j.

    Shared by the tests, which never wipe: the service lends ids from a block it holds, so each
    test uses identifiers of its own instead.
    """
    log = tmp_path_factory.mktemp("service") / "service.log"
    with running_service(neo4j, log) as running:
        yield running


@pytest.fixture(scope="session")
def browser_service(
    neo4j: Neo4jConnection, local_neo4j: LocalNeo4j, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Service]:
    """The service on the project's own Neo4j, whose Browser loads the service's guide.

    `neo4j` comes first: without NEO4J_URI it is this same server, and it must mark the
    database as the tests' own before anything writes to it.
    """
    log = tmp_path_factory.mktemp("browser-service") / "service.log"
    with running_service(local_neo4j.connection, log, local_neo4j.config.http_port) as running:
        yield running
