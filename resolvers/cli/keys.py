"""`identity keys create | list | revoke`: the API keys clients send as `Authorization: Bearer`.

A key is shown once, when it is made; Neo4j keeps only its hash.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TypeVar

import click

from graphdb.api_keys import ApiKeyRecord, ApiKeyStore, KeyNameTaken
from graphdb.driver import create_driver, ensure_constraints
from graphdb.errors import DatabaseUnavailable, unavailable_as_error
from graphdb.local.server import LocalNeo4jError
from resolvers.core.access import KEY_CACHE_SECONDS, Scope, key_hash, new_key
from resolvers.runtime.settings import Settings
from resolvers.runtime.wiring import configured_connection, running_local_connection

T = TypeVar("T")
NAME_PATTERN = r"[A-Za-z0-9._-]{1,64}"
MOST_RATE = 1e6


def _with_store(work: Callable[[ApiKeyStore], Awaitable[T]], *, schema: bool = False) -> T:
    """Runs the work on the keys of NEO4J_URI or the running local Neo4j; with `schema`, makes
    the service's constraints first (a key's name is unique by one), as the service would."""
    settings = Settings.from_environment()

    async def run() -> T:
        connection = configured_connection(settings) or running_local_connection(settings)
        async with create_driver(connection) as driver:
            if schema:
                async with unavailable_as_error():
                    await ensure_constraints(driver, connection.database)
            return await work(ApiKeyStore(driver, connection.database, settings.request_timeout))

    try:
        return asyncio.run(run())
    except (LocalNeo4jError, DatabaseUnavailable) as error:
        raise click.ClickException(str(error)) from error


def _name(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    if not re.fullmatch(NAME_PATTERN, value):
        raise click.BadParameter("use 1 to 64 letters, digits, dots, dashes and underscores")
    return value


def _rate(value: float | None) -> float | None:
    # FloatRange lets nan through, and inf would overflow the limiter's arithmetic.
    if value is not None and not (0 < value <= MOST_RATE):
        raise click.BadParameter(f"give requests per second, above 0 and at most {MOST_RATE:g}")
    return value


@click.group()
def keys() -> None:
    """API keys: needed by every API call while AUTH is on (docs/SECURITY.md)."""


@keys.command()
@click.option("--name", required=True, callback=_name, help="Who the key is for, unique.")
@click.option(
    "--scope",
    "scopes",
    required=True,
    multiple=True,
    type=click.Choice([scope.value for scope in Scope]),
    help="What the key may do; repeat for several. POST /identify needs identify and read.",
)
@click.option(
    "--rate",
    type=float,
    callback=lambda _ctx, _param, value: _rate(value),
    help="Requests per second (per service process), bursts of twice it. "
    "Default: RATE_LIMIT_DEFAULT.",
)
def create(name: str, scopes: tuple[str, ...], rate: float | None) -> None:
    """Make a key and print it, once, as the last line."""
    key = new_key()
    unique = tuple(dict.fromkeys(scopes))
    try:
        record = _with_store(
            lambda store: store.create(name, key_hash(key), unique, rate), schema=True
        )
    except KeyNameTaken as error:
        raise click.ClickException(str(error)) from error
    rate_text = "the default rate" if record.rate is None else f"{record.rate:g} requests/s"
    click.echo(f"Created key {record.name!r}: scopes {', '.join(record.scopes)}; {rate_text}.")
    click.echo("It is shown only now; Neo4j keeps only its hash. The key:")
    click.echo(key)


@keys.command(name="list")
def list_keys() -> None:
    """Names, scopes, rates, creation and last use; never the keys."""
    records = _with_store(lambda store: store.all_keys())
    if not records:
        click.echo("No keys.")
        return
    click.echo(f"{'NAME':24} {'SCOPES':28} {'RATE':>8}  {'CREATED':20} LAST USED")
    for record in records:
        click.echo(_row(record))


def _row(record: ApiKeyRecord) -> str:
    rate = "default" if record.rate is None else f"{record.rate:g}/s"
    last = "never" if record.last_used_at is None else _when(record.last_used_at)
    return (
        f"{record.name:24} {','.join(record.scopes):28} {rate:>8}  "
        f"{_when(record.created_at):20} {last}"
    )


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")


@keys.command()
@click.argument("name")
def revoke(name: str) -> None:
    """Delete the key; every service stops accepting it within seconds."""
    if not _with_store(lambda store: store.revoke(name)):
        raise click.ClickException(f"No key named {name!r}.")
    click.echo(f"Revoked {name!r}: refused everywhere within {KEY_CACHE_SECONDS:g} s.")
