"""Webhooks from the ledger: every event delivered, signed, in order per cluster, retried
through failures, with the delivery cursor kept in Neo4j."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import AsyncIterator

import pytest
from click.testing import CliRunner
from neo4j import AsyncDriver

from graphdb.driver import Neo4jConnection, ensure_constraints
from graphdb.outbox import Outbox
from graphdb.repository import ContactRepository
from resolvers.cli.webhooks import webhooks
from resolvers.runtime.webhooks import (
    EVENT_ID_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    DeliveryEvents,
    WebhookConfig,
    WebhookDeliverer,
    url_hash,
)
from tests.support.receiver import WAIT, Receiver

SECRET = b"webhook test secret, 32 bytes or more"
EVENTS = "MATCH (e:Event) RETURN e.id AS id ORDER BY e.at"


class Counted(DeliveryEvents):
    def __init__(self) -> None:
        self.attempts: list[bool] = []
        self.lags: list[tuple[float, int]] = []
        self.dead: list[str] = []

    def webhook_attempted(self, ok: bool) -> None:
        self.attempts.append(ok)

    def webhook_lag(self, seconds: float, waiting: int) -> None:
        self.lags.append((seconds, waiting))

    def webhook_dead_lettered(self, reason: str) -> None:
        self.dead.append(reason)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    with Receiver() as running:
        yield running


async def _spec_merge(repository: ContactRepository) -> None:
    await repository.identify("george@hillvalley.edu", "919191")
    await repository.identify("biffsucks@hillvalley.edu", "717171")
    await repository.identify("george@hillvalley.edu", "717171")
    await repository.identify("george@hillvalley.edu", "5550101")


async def _deliver_until(
    deliverer: WebhookDeliverer, receiver: Receiver, count: int, outbox: Outbox
) -> None:
    """Runs the deliverer until the receiver has `count` requests and the outbox is empty."""
    running = asyncio.create_task(deliverer.run())
    try:
        assert await receiver.until(count), f"{len(receiver.received)} of {count} delivered"
        async with asyncio.timeout(WAIT):
            while True:
                if not (await outbox.lag()).waiting:
                    break
                await asyncio.sleep(0.05)
    finally:
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running


async def test_every_event_goes_out_signed_and_in_order(
    driver: AsyncDriver, database: str, receiver: Receiver
) -> None:
    repository = ContactRepository(driver, database, outbox=True)
    await _spec_merge(repository)
    written, _, _ = await driver.execute_query(EVENTS, database_=database)
    outbox = Outbox(driver, database)
    metrics = Counted()
    config = WebhookConfig((receiver.url,), SECRET, poll=0.05)

    await _deliver_until(WebhookDeliverer(outbox, config, metrics), receiver, len(written), outbox)

    assert receiver.event_ids() == [record["id"] for record in written]
    assert [r.event["kind"] for r in receiver.received] == [
        "CREATED",
        "CREATED",
        "MERGED",
        "LINKED",
    ]
    for request in receiver.received:
        timestamp = request.headers[TIMESTAMP_HEADER]
        expected = hmac.new(SECRET, f"{timestamp}.".encode() + request.body, hashlib.sha256)
        assert request.headers[SIGNATURE_HEADER] == f"v1={expected.hexdigest()}"
        assert request.headers[EVENT_ID_HEADER] == request.event["id"]
        assert b"hillvalley" not in request.body
        assert b"717171" not in request.body
    assert all(metrics.attempts)
    # Out of the outbox, and the cursor past the last one.
    assert (await outbox.lag()).waiting == 0
    cursor, _, _ = await driver.execute_query(
        "MATCH (c:DeliveryCursor) RETURN c.lastEventId AS last, c.delivered AS delivered",
        database_=database,
    )
    assert cursor[0]["last"] == written[-1]["id"]
    assert cursor[0]["delivered"] == len(written)


async def test_a_failing_receiver_gets_each_event_again_and_the_order_holds(
    driver: AsyncDriver, database: str, receiver: Receiver
) -> None:
    repository = ContactRepository(driver, database, outbox=True)
    await _spec_merge(repository)
    written, _, _ = await driver.execute_query(EVENTS, database_=database)
    receiver.behaviour.fail_next = 3
    metrics = Counted()
    config = WebhookConfig((receiver.url,), SECRET, poll=0.05, first_backoff=0.01)

    outbox = Outbox(driver, database)
    deliverer = WebhookDeliverer(outbox, config, metrics)
    await _deliver_until(deliverer, receiver, len(written), outbox)

    assert receiver.event_ids() == [record["id"] for record in written]
    assert metrics.attempts.count(False) == 3


async def test_without_webhooks_nothing_is_queued(driver: AsyncDriver, database: str) -> None:
    repository = ContactRepository(driver, database)
    await _spec_merge(repository)

    assert (await Outbox(driver, database).lag()).waiting == 0


async def test_one_process_delivers_at_a_time(driver: AsyncDriver, database: str) -> None:
    outbox = Outbox(driver, database)

    assert await outbox.take_lease("first", 30.0)
    assert not await outbox.take_lease("second", 30.0)
    assert await outbox.take_lease("first", 30.0)


@pytest.mark.parametrize("before", ["no cursor yet", "the owner's lease run out"])
async def test_one_of_many_racing_processes_takes_the_lease(
    driver: AsyncDriver, database: str, before: str
) -> None:
    # Every worker's deliverer asks at once: at first start, and when a killed owner's lease
    # runs out. Two winners would each send the outbox, twice and out of order.
    outbox = Outbox(driver, database)
    for round_ in range(5):
        if before == "the owner's lease run out":
            assert await outbox.take_lease(f"killed {round_}", -1.0)
        else:
            await driver.execute_query("MATCH (c:DeliveryCursor) DELETE c", database_=database)
        takers = [outbox.take_lease(f"worker {round_}.{n}", 30.0) for n in range(8)]
        taken = await asyncio.gather(*takers)
        assert taken.count(True) == 1
        cursors, _, _ = await driver.execute_query(
            "MATCH (c:DeliveryCursor) RETURN count(c) AS n", database_=database
        )
        assert cursors[0]["n"] == 1
        if before == "the owner's lease run out":
            # Expire it for the next round's killed owner.
            await driver.execute_query(
                "MATCH (c:DeliveryCursor) SET c.leaseUntil = datetime() - duration('PT1S')",
                database_=database,
            )


async def test_a_cursor_doubled_before_its_constraint_is_folded_into_one(
    driver: AsyncDriver, database: str
) -> None:
    # What the lease race left in a database whose workers started at once, before the fix.
    await driver.execute_query("DROP CONSTRAINT delivery_cursor_name", database_=database)
    try:
        await driver.execute_query(
            "CREATE (:DeliveryCursor {name: 'webhooks', lastEventId: 'e1'}),"
            " (:DeliveryCursor {name: 'webhooks', lastEventId: 'e1'})",
            database_=database,
        )
    finally:
        await ensure_constraints(driver, database)

    cursors, _, _ = await driver.execute_query(
        "MATCH (c:DeliveryCursor) RETURN c.lastEventId AS last", database_=database
    )
    assert [record["last"] for record in cursors] == ["e1"]
    assert await Outbox(driver, database).take_lease("first", 30.0)
    assert not await Outbox(driver, database).take_lease("second", 30.0)


@pytest.mark.parametrize(
    ("status", "max_age", "reason"),
    [(400, 86400.0, "refused"), (503, 0.0, "too_old")],
    ids=["refused for good", "too old"],
)
async def test_an_event_a_url_will_not_take_is_set_aside_and_the_rest_go_on(
    driver: AsyncDriver,
    database: str,
    receiver: Receiver,
    status: int,
    max_age: float,
    reason: str,
) -> None:
    repository = ContactRepository(driver, database, outbox=True)
    await _spec_merge(repository)
    written, _, _ = await driver.execute_query(EVENTS, database_=database)
    receiver.behaviour.fail_next, receiver.behaviour.fail_status = 1, status
    metrics = Counted()
    config = WebhookConfig((receiver.url,), SECRET, poll=0.05, first_backoff=0.01, max_age=max_age)
    outbox = Outbox(driver, database)

    await _deliver_until(
        WebhookDeliverer(outbox, config, metrics), receiver, len(written) - 1, outbox
    )

    assert receiver.event_ids() == [record["id"] for record in written[1:]]
    assert metrics.dead == [reason]
    [letter] = await outbox.dead_letters(10)
    assert (letter.event.id, letter.url_number, letter.reason) == (written[0]["id"], 1, reason)
    assert letter.status == status


async def test_a_dead_letter_is_listed_replayed_and_dropped_from_the_cli(
    driver: AsyncDriver, database: str, receiver: Receiver, neo4j: Neo4jConnection
) -> None:
    repository = ContactRepository(driver, database, outbox=True)
    await _spec_merge(repository)
    written, _, _ = await driver.execute_query(EVENTS, database_=database)
    outbox = Outbox(driver, database)
    for event in written[:2]:
        await outbox.dead_letter(event["id"], 1, url_hash(receiver.url), "refused", 400)
    env = {
        "NEO4J_URI": neo4j.uri,
        "NEO4J_USER": neo4j.user,
        "NEO4J_PASSWORD": neo4j.password or "",
        "NEO4J_DATABASE": database,
        "WEBHOOK_URLS": receiver.url,
        "WEBHOOK_SECRET": SECRET.decode(),
    }

    def identity(*arguments: str) -> str:
        result = CliRunner().invoke(webhooks, list(arguments), env=env)
        assert result.exit_code == 0, result.output
        return result.output

    listed = await asyncio.to_thread(identity, "dead-letters")
    first, second = (line.split()[0] for line in listed.splitlines())
    replayed = await asyncio.to_thread(identity, "replay", first)
    dropped = await asyncio.to_thread(identity, "drop", second)

    assert written[0]["id"] in listed
    assert "Delivered to URL 1" in replayed
    assert receiver.event_ids() == [written[0]["id"]]
    assert dropped.strip() == "Dropped."
    assert await outbox.dead_letters(10) == []
