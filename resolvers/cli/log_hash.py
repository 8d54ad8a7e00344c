"""`identity log-hash`: the keyed hash the logs carry for an email or a phone, to grep for, or
the one the ledger's events carry (`--ledger`)."""

from __future__ import annotations

import sys
from collections.abc import Iterable

import click

from resolvers.runtime.log_hash import LogHash, LogHashKeyError, read_key, read_ledger_key
from resolvers.runtime.settings import Settings


@click.command(name="log-hash")
@click.argument("values", nargs=-1)
@click.option(
    "--kind",
    type=click.Choice(["email", "phone"]),
    help="What the values are. Default: an email when it holds an @, else a phone number.",
)
@click.option(
    "--ledger",
    is_flag=True,
    help="The hash the ledger's events carry (LEDGER_HASH_KEY), not the logs'.",
)
def log_hash_command(values: tuple[str, ...], kind: str | None, ledger: bool) -> None:
    """Print the keyed hash that log lines carry for each email or phone number, one a line.

    With no VALUES, reads them from standard input, one a line: that keeps them out of the
    shell's history and of `ps`. Run it with the service's settings (LOG_HASH_KEY or
    LOG_HASH_KEY_FILE; with --ledger, LEDGER_HASH_KEY or LEDGER_HASH_KEY_FILE): another key
    gives other hashes.
    """
    settings = Settings.from_environment()
    key = _existing_key(settings, ledger)
    log_hash = LogHash(key, phone_region=settings.phone_default_region)
    for value in _values(values):
        as_email = kind == "email" or (kind is None and "@" in value)
        click.echo(log_hash.email(value) if as_email else log_hash.phone(value))


def _existing_key(settings: Settings, ledger: bool) -> bytes:
    # Never made here: a key made now would match no line or event written before, and the
    # service makes its own on first start.
    try:
        key = read_ledger_key(settings) if ledger else read_key(settings)
    except LogHashKeyError as error:
        raise click.ClickException(str(error)) from error
    if key is None:
        what, name, path = (
            ("ledger hash key", "LEDGER_HASH_KEY", settings.ledger_hash_key_file)
            if ledger
            else ("log hash key", "LOG_HASH_KEY", settings.log_hash_key_file)
        )
        raise click.ClickException(
            f"No {what}: {name} is unset and {path} does not exist. Run this with the settings "
            "the service runs with."
        )
    return key


def _values(arguments: tuple[str, ...]) -> Iterable[str]:
    if arguments:
        return arguments
    lines = (line.strip() for line in sys.stdin)
    return (line for line in lines if line)
