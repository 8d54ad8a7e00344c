"""/metrics in Prometheus text: requests by route template and status, latency, identify outcomes,
transaction retries and Neo4j errors."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from neo4j import AsyncDriver, AsyncManagedTransaction, AsyncSession
from neo4j.exceptions import ServiceUnavailable

from graphdb import repository as repository_module
from graphdb.driver import Neo4jConnection
from graphdb.identify_tx import identify_at_once, identify_batch_transaction
from resolvers.runtime.settings import Settings
from tests.support.app import app_client
from tests.support.metrics import scrape, value

OUTCOMES = "identity_identify_outcomes_total"
REQUESTS = "identity_http_requests_total"
DURATIONS = "identity_http_request_duration_seconds_count"
RETRIES = "identity_neo4j_transaction_retries_total"
IDENTIFY = "mutation($input: IdentifyInput!) { identify(input: $input) { __typename } }"


async def test_identify_outcomes_are_counted_as_the_transaction_decided(
    client: httpx.AsyncClient,
) -> None:
    before = await scrape(client)
    for body in (
        {"email": "lorraine@hillvalley.edu", "phoneNumber": "123456"},
        {"email": "mcfly@hillvalley.edu", "phoneNumber": "123456"},
        {"email": None, "phoneNumber": "123456"},
        {"email": "george@hillvalley.edu", "phoneNumber": "919191"},
    ):
        assert (await client.post("/identify", json=body)).status_code == 200
    for variables in (
        {"email": "biffsucks@hillvalley.edu", "phoneNumber": "717171"},
        {"email": "george@hillvalley.edu", "phoneNumber": "717171"},
    ):
        response = await client.post(
            "/graphql", json={"query": IDENTIFY, "variables": {"input": variables}}
        )
        assert response.json() == {"data": {"identify": {"__typename": "Identity"}}}
    after = await scrape(client)

    def added(outcome: str) -> float:
        return value(after, OUTCOMES, outcome=outcome) - value(before, OUTCOMES, outcome=outcome)

    assert added("created_primary") == 3
    assert added("added_secondary") == 1
    assert added("nothing_new") == 1
    assert added("merged") == 1


async def test_requests_are_counted_by_route_template_and_status(
    client: httpx.AsyncClient,
) -> None:
    before = await scrape(client)
    await client.post("/identify", json={"email": "lorraine@hillvalley.edu"})
    await client.post("/identify", json={"email": "not-an-email"})
    await client.get("/graphql-assets/no-such-file.js")
    await client.get("/graphql-assets/another/one.css")
    await client.get("/wp-login.php")
    await client.get("/identify")
    after = await scrape(client)

    def added(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert added(REQUESTS, method="POST", route="/identify", status="200") == 1
    assert added(REQUESTS, method="POST", route="/identify", status="400") == 1
    assert added(REQUESTS, method="GET", route="/graphql-assets/{name:path}", status="404") == 2
    assert added(REQUESTS, method="GET", route="unmatched", status="404") == 1
    assert added(REQUESTS, method="GET", route="/identify", status="405") == 1
    assert added(DURATIONS, method="POST", route="/identify") == 2
    assert value(after, "identity_http_request_duration_seconds_bucket",
                 method="POST", route="/identify", le="+Inf") >= 2  # fmt: skip
    assert not any(
        name == REQUESTS and ("route", "/wp-login.php") in labels for name, labels in after
    )


def _fails_first_run(
    work: Callable[..., Awaitable[Any]],
) -> Callable[..., Awaitable[Any]]:
    runs = 0

    async def flaky(tx: AsyncManagedTransaction, *args: Any, **kwargs: Any) -> Any:
        nonlocal runs
        runs += 1
        result = await work(tx, *args, **kwargs)
        if runs == 1:
            # As a dropped connection would, after the statements ran: the driver rolls back and
            # runs the function again.
            raise ServiceUnavailable("connection dropped (injected by the test)")
        return result

    return flaky


def _at_once_fails_first(work: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    runs = 0

    async def flaky(session: AsyncSession, *args: Any, **kwargs: Any) -> Any:
        nonlocal runs
        runs += 1
        if runs == 1:
            # As a connection dropped before the statement reached Neo4j would.
            raise ServiceUnavailable("connection dropped (injected by the test)")
        return await work(session, *args, **kwargs)

    return flaky


@pytest.mark.parametrize(
    ("function", "headers"),
    [
        # A request alone goes first as the auto-commit statement; the managed transaction
        # runs it again.
        pytest.param("identify_at_once", {}, id="auto_commit_statement"),
        # A request with an Idempotency-Key takes the managed transaction, which the driver
        # runs again.
        pytest.param("identify_batch_transaction", {"Idempotency-Key": "retry-1"}, id="managed"),
    ],
)
async def test_a_transaction_run_again_counts_as_a_retry(
    neo4j: Neo4jConnection,
    settings: Settings,
    driver: AsyncDriver,
    monkeypatch: pytest.MonkeyPatch,
    function: str,
    headers: dict[str, str],
) -> None:
    if function == "identify_at_once":
        monkeypatch.setattr(repository_module, function, _at_once_fails_first(identify_at_once))
    else:
        monkeypatch.setattr(
            repository_module, function, _fails_first_run(identify_batch_transaction)
        )
    async with app_client(settings, neo4j) as client:
        before = await scrape(client)
        response = await client.post(
            "/identify", json={"email": "doc@hillvalley.edu"}, headers=headers
        )
        after = await scrape(client)

    assert response.status_code == 200
    assert response.json()["contact"]["emails"] == ["doc@hillvalley.edu"]
    added = value(after, RETRIES, transaction="identify") - value(
        before, RETRIES, transaction="identify"
    )
    assert added == 1
    assert (
        value(after, OUTCOMES, outcome="created_primary")
        - value(before, OUTCOMES, outcome="created_primary")
        == 1
    )


async def test_the_size_of_each_growing_store_is_a_metric(
    driver: AsyncDriver, neo4j: Neo4jConnection, settings: Settings
) -> None:
    # The upkeep reads the sizes every IDEMPOTENCY_PURGE_SECONDS: here at once, again and again.
    quick = dataclasses.replace(settings, idempotency_purge_seconds=0.01)
    async with app_client(quick, neo4j) as client:
        for email in ("doc@hillvalley.edu", "marty@hillvalley.edu"):
            await client.post(
                "/identify", json={"email": email}, headers={"Idempotency-Key": email}
            )
        events, _, _ = await driver.execute_query(
            "MATCH (e:Event) RETURN count(e) AS n", database_=neo4j.database
        )
        async with asyncio.timeout(30):
            while True:
                samples = await scrape(client)
                if value(samples, "identity_stored_nodes", store="idempotency_keys") == 2:
                    break
                await asyncio.sleep(0.01)

    assert value(samples, "identity_stored_nodes", store="events") == events[0]["n"] == 2
    assert value(samples, "identity_stored_nodes", store="conflicts") == 0
    assert value(samples, "identity_stored_nodes", store="outbox") == 0
