"""`make check-graph`: read the whole graph and list every invariant violation; exit 1 if any.
Emails and phone numbers are printed as their keyed hashes unless the caller asks for the values."""

from __future__ import annotations

import asyncio
import dataclasses
import sys

from graphdb.consistency import GraphContact, GraphState, find_violations, read_state
from graphdb.driver import create_driver
from graphdb.errors import DatabaseUnavailable, unavailable_as_error
from graphdb.local.server import LocalNeo4jError
from resolvers.runtime.log_hash import LogHash, service_log_hash
from resolvers.runtime.logs import configure_logging
from resolvers.runtime.settings import Settings
from resolvers.runtime.wiring import configured_connection, running_local_connection


async def _state(settings: Settings) -> GraphState:
    connection = configured_connection(settings) or running_local_connection(settings)
    async with create_driver(connection) as driver, unavailable_as_error():
        return await read_state(driver, connection.database)


def _hashed_state(state: GraphState, log_hash: LogHash) -> GraphState:
    def token(kind: str, value: str) -> str:
        return log_hash.token(kind, value)

    return GraphState(
        [_hashed(contact, log_hash) for contact in state.contacts],
        frozenset((kind, token(kind, value)) for kind, value in state.hubs),
        tuple(
            dataclasses.replace(
                conflict,
                email=token("email", conflict.email),
                phone=token("phone", conflict.phone),
            )
            for conflict in state.conflicts
        ),
    )


def _hashed(contact: GraphContact, log_hash: LogHash) -> GraphContact:
    """The contact with each email and phone replaced by its keyed hash, the one the logs carry.
    The checks compare values only for equality, so they find the same violations in hashes; the
    stored text is hashed as it is, not canonicalised, so that two spellings of one value stay
    two."""

    def email(value: str) -> str:
        return log_hash.token("email", value)

    def phone(value: str) -> str:
        return log_hash.token("phone", value)

    return dataclasses.replace(
        contact,
        email=None if contact.email is None else email(contact.email),
        phone=None if contact.phone is None else phone(contact.phone),
        email_nodes=tuple(email(value) for value in contact.email_nodes),
        phone_nodes=tuple(phone(value) for value in contact.phone_nodes),
    )


def main(*, show_pii: bool = False) -> int:
    settings = Settings.from_environment()
    log_hash = service_log_hash(settings)
    # Text lines on stderr, through the same net as the service's: the driver's warnings quote
    # the errors it retries.
    configure_logging(settings.log_level, log_format="text", log_hash=log_hash)
    try:
        state = asyncio.run(_state(settings))
    except (LocalNeo4jError, DatabaseUnavailable) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if not show_pii:
        state = _hashed_state(state, log_hash)
    violations = find_violations(state.contacts, state.hubs, state.conflicts)
    for violation in violations:
        print(violation)
    print(f"{len(violations)} violation(s)")
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main(show_pii="--show-pii" in sys.argv[1:]))
