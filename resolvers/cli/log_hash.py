"""`identity log-hash`: the keyed hash the logs carry for an email or a phone, to grep for."""

from __future__ import annotations

import sys
from collections.abc import Iterable

import click

from resolvers.runtime.log_hash import LogHash, LogHashKeyError, read_key
from resolvers.runtime.settings import Settings


@click.command(name="log-hash")
@click.argument("values", nargs=-1)
@click.option(
    "--kind",
    type=click.Choice(["email", "phone"]),
    help="What the values are. Default: an email when it holds an @, else a phone number.",
)
def log_hash_command(values: tuple[str, ...], kind: str | None) -> None:
    """Print the keyed hash that log lines carry for each email or phone number, one a line.

    With no VALUES, reads them from standard input, one a line: that keeps them out of the
    shell's history and of `ps`. Run it with the service's settings (LOG_HASH_KEY or
    LOG_HASH_KEY_FILE): another key gives other hashes.
    """
    settings = Settings.from_environment()
    log_hash = LogHash(_existing_key(settings), phone_region=settings.phone_default_region)
    for value in _values(values):
        as_email = kind == "email" or (kind is None and "@" in value)
        click.echo(log_hash.email(value) if as_email else log_hash.phone(value))


def _existing_key(settings: Settings) -> bytes:
    # Never made here: a key made now would match no log line written before, and the service
    # makes its own on first start.
    try:
        key = read_key(settings)
    except LogHashKeyError as error:
        raise click.ClickException(str(error)) from error
    if key is None:
        raise click.ClickException(
            f"No log hash key: LOG_HASH_KEY is unset and {settings.log_hash_key_file} does not "
            "exist. Run this with the settings the service runs with."
        )
    return key


def _values(arguments: tuple[str, ...]) -> Iterable[str]:
    if arguments:
        return arguments
    lines = (line.strip() for line in sys.stdin)
    return (line for line in lines if line)
