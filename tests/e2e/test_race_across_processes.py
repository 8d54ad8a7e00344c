"""Concurrent identifies from separate processes on one Neo4j keep every invariant of
docs/rules.md."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from neo4j import AsyncDriver

from graphdb.consistency import check_graph
from graphdb.driver import Neo4jConnection
from tests.support.race import (
    CLIENTS,
    REQUESTS_PER_CLIENT,
    assert_every_answer_reflected,
    client_session,
)
from tests.support.service import Service, start_all, stop_all

# (service processes, WORKERS of each). Each batches its own requests; between processes only
# Neo4j's locks, taken in one global order, keep identify correct.
ONE_SERVICE_TWO_WORKERS = pytest.param((1, 2), id="one_service_two_workers")
TWO_SERVICES = pytest.param((2, 1), id="two_services")
TWO_SERVICES_TWO_WORKERS = pytest.param((2, 2), id="two_services_two_workers")
# A bound that turns a hang (a lock wait between processes that never ends, say) into a failure;
# the race takes a few seconds.
RACE_WITHIN_SECONDS = 120
# Sequential requests at most before every worker of two services has answered one.
MOST_SEQUENTIAL = 400


@dataclass
class Processes:
    """The running services, and the one log file they all write."""

    services: list[Service]
    log: Path

    def identify_pids(self) -> set[int]:
        """The processes that answered /identify, from their access lines."""
        pids = set()
        for text in self.log.read_text().splitlines():
            if not text.startswith("{"):
                continue  # serve.py's own plain start-up lines
            line = json.loads(text)
            if (
                line["logger"] == "resolvers.http.middleware.request_log"
                and line["route"] == "/identify"
            ):
                pids.add(line["pid"])
        return pids


@pytest.fixture
async def processes(
    request: pytest.FixtureRequest, neo4j: Neo4jConnection, driver: AsyncDriver, tmp_path: Path
) -> AsyncIterator[Processes]:
    # Started after `driver` wiped the graph: a service keeps the contact ids it reserved, and
    # a wipe under it would hand them out again.
    count, workers = request.param
    settings = {
        "WORKERS": str(workers), "REQUEST_TIMEOUT": "30", "WARM_UP_SECONDS": "0",
        # JSON access lines name the process that answered.
        "LOG_LEVEL": "info", "LOG_FORMAT": "json",
    }  # fmt: skip
    log = tmp_path / "services.log"
    services = [Service(neo4j, log, settings) for _ in range(count)]
    await start_all(services)
    try:
        yield Processes(services, log)
    finally:
        await asyncio.to_thread(stop_all, services)


async def _clients(stack: AsyncExitStack, processes: Processes) -> list[httpx.AsyncClient]:
    """One client per service, each request on a new connection: the kernel hands every one to
    whichever worker accepts first, so consecutive requests of a session change process."""
    return [
        await stack.enter_async_context(
            httpx.AsyncClient(
                base_url=service.url,
                timeout=60,
                limits=httpx.Limits(max_keepalive_connections=0),
            )
        )
        for service in processes.services
    ]


async def _count_contacts(driver: AsyncDriver, database: str) -> int:
    records, _, _ = await driver.execute_query(
        "MATCH (c:Contact) RETURN count(c) AS n", database_=database
    )
    count: int = records[0]["n"]
    return count


@pytest.mark.parametrize("processes", [ONE_SERVICE_TWO_WORKERS, TWO_SERVICES], indirect=True)
async def test_overlapping_requests_across_processes_keep_every_invariant(
    processes: Processes, driver: AsyncDriver, database: str
) -> None:
    async with AsyncExitStack() as stack, asyncio.timeout(RACE_WITHIN_SECONDS):
        clients = await _clients(stack, processes)
        sessions = await asyncio.gather(
            *(client_session(clients[seed % len(clients)], seed) for seed in range(CLIENTS))
        )
    acknowledged = [pair for session in sessions for pair in session]
    assert len(acknowledged) == CLIENTS * REQUESTS_PER_CLIENT
    # Both processes took part, or the race was not across processes.
    assert len(processes.identify_pids()) == 2

    assert await check_graph(driver, database) == []
    await assert_every_answer_reflected(driver, database, acknowledged)


@pytest.mark.parametrize("processes", [TWO_SERVICES], indirect=True)
async def test_identical_new_requests_split_across_services_create_one_contact(
    processes: Processes, driver: AsyncDriver, database: str
) -> None:
    body = {"email": "twin@example.com", "phoneNumber": "5551234"}
    async with AsyncExitStack() as stack, asyncio.timeout(RACE_WITHIN_SECONDS):
        clients = await _clients(stack, processes)
        responses = await asyncio.gather(
            *(clients[n % len(clients)].post("/identify", json=body) for n in range(32))
        )

    assert [r.status_code for r in responses] == [200] * 32
    # The same answer from both services: the one contact, whichever process created it.
    assert len({str(r.json()) for r in responses}) == 1
    assert len(processes.identify_pids()) == 2
    assert await _count_contacts(driver, database) == 1
    assert await check_graph(driver, database) == []


@dataclass(frozen=True)
class _Made:
    """One contact a request made, and when (the test's clock) the request went and came back."""

    id: int
    sent: float
    answered: float


async def _make(client: httpx.AsyncClient, email: str) -> _Made:
    sent = time.monotonic()
    response = await client.post("/identify", json={"email": email})
    answered = time.monotonic()
    assert response.status_code == 200
    contact = response.json()["contact"]
    assert contact["secondaryContactIds"] == []
    return _Made(contact["primaryContatctId"], sent, answered)


@pytest.mark.parametrize("processes", [TWO_SERVICES_TWO_WORKERS], indirect=True)
async def test_ids_grow_in_creation_order_across_services_and_workers(
    processes: Processes, driver: AsyncDriver, database: str
) -> None:
    """The legacy contract: a contact whose request started after another contact's request was
    answered has the larger id, whichever worker of whichever service made each."""
    names = (f"order{n}@example.com" for n in itertools.count())
    made: list[_Made] = []
    async with AsyncExitStack() as stack, asyncio.timeout(RACE_WITHIN_SECONDS):
        clients = await _clients(stack, processes)
        # One after another, each on a new connection to the other service in turn, until
        # every worker of both services has made some (the kernel picks the worker).
        while len(made) < 60 or len(processes.identify_pids()) < 4:
            assert len(made) < MOST_SEQUENTIAL, "not every worker answered"
            made.append(await _make(clients[len(made) % 2], next(names)))
        sequential_count = len(made)
        # Then rounds of concurrent ones, which may interleave among themselves.
        for _ in range(10):
            made += await asyncio.gather(*(_make(clients[n % 2], next(names)) for n in range(16)))

    sequential = [each.id for each in made[:sequential_count]]
    assert sequential == sorted(sequential)
    assert len({each.id for each in made}) == len(made)
    later = [
        (before.id, after.id)
        for before in made
        for after in made
        if after.sent > before.answered and after.id < before.id
    ]
    assert later == []
    assert await check_graph(driver, database) == []
