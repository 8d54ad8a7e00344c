"""`identity webhooks dead-letters | replay | drop`: the events a webhook URL did not take,
set aside so that the events behind them went on (resolvers.runtime.webhooks)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import click
import httpx

from graphdb.driver import create_driver
from graphdb.errors import DatabaseUnavailable
from graphdb.local.server import LocalNeo4jError
from graphdb.outbox import DeadLetter, Outbox
from resolvers.runtime.settings import Settings
from resolvers.runtime.webhooks import DELIVERED, NoDeliveryEvents, WebhookDeliverer, url_hash
from resolvers.runtime.wiring import configured_connection, running_local_connection, webhook_config

T = TypeVar("T")
LISTED = 1000


def _with_outbox(work: Callable[[Outbox, Settings], Awaitable[T]]) -> T:
    settings = Settings.from_environment()

    async def run() -> T:
        connection = configured_connection(settings) or running_local_connection(settings)
        async with create_driver(connection) as driver:
            return await work(Outbox(driver, connection.database), settings)

    try:
        return asyncio.run(run())
    except (LocalNeo4jError, DatabaseUnavailable, ValueError) as error:
        raise click.ClickException(str(error)) from error


@click.group()
def webhooks() -> None:
    """Webhook deliveries set aside (dead letters)."""


@webhooks.command(name="dead-letters")
def list_dead_letters() -> None:
    """The events set aside, oldest first: id, when, the URL's place in WEBHOOK_URLS, why."""

    async def listed(outbox: Outbox, _settings: Settings) -> list[DeadLetter]:
        return await outbox.dead_letters(LISTED)

    for letter in _with_outbox(listed):
        status = "" if letter.status is None else f" {letter.status}"
        click.echo(
            f"{letter.id}  {letter.at}  url {letter.url_number}  {letter.reason}{status}  "
            f"{letter.event.kind.value} {letter.event.id}"
        )


@webhooks.command()
@click.argument("letter_id")
def replay(letter_id: str) -> None:
    """POST a dead letter's event to its URL again, once; dropped when the URL takes it."""

    async def replayed(outbox: Outbox, settings: Settings) -> str:
        config = webhook_config(settings)
        found = await outbox.dead_letters(1, letter_id)
        letter = found[0] if found else None
        if letter is None:
            return "No dead letter has that id."
        urls = {url_hash(url): (n, url) for n, url in enumerate(config.urls, 1)} if config else {}
        if letter.url not in urls or config is None:
            return "Its URL is no longer in WEBHOOK_URLS; drop it instead."
        number, url = urls[letter.url]
        async with httpx.AsyncClient(timeout=config.timeout) as client:
            deliverer = WebhookDeliverer(outbox, config, NoDeliveryEvents(), client)
            status = await deliverer.post_event(number, url, letter.event)
        if status != DELIVERED:
            return f"URL {number} did not take it ({status}); it stays set aside."
        await outbox.drop_dead_letter(letter.id)
        return f"Delivered to URL {number}, and dropped."

    click.echo(_with_outbox(replayed))


@webhooks.command()
@click.argument("letter_id")
def drop(letter_id: str) -> None:
    """Forget a dead letter: its event is not sent to that URL again."""

    async def dropped(outbox: Outbox, _settings: Settings) -> bool:
        return await outbox.drop_dead_letter(letter_id)

    if not _with_outbox(dropped):
        raise click.ClickException("No dead letter has that id.")
    click.echo("Dropped.")
