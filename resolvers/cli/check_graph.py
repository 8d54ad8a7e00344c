"""`make check-graph`: read the whole graph and list every invariant violation; exit 1 if any."""

from __future__ import annotations

import asyncio
import sys

from graphdb.consistency import check_graph
from graphdb.driver import create_driver
from graphdb.errors import DatabaseUnavailable, unavailable_as_error
from graphdb.local.server import LocalNeo4jError
from resolvers.runtime.settings import Settings
from resolvers.runtime.wiring import configured_connection, running_local_connection


async def _check(settings: Settings) -> list[str]:
    connection = configured_connection(settings) or running_local_connection(settings)
    async with create_driver(connection) as driver, unavailable_as_error():
        return await check_graph(driver, connection.database)


def main() -> int:
    try:
        violations = asyncio.run(_check(Settings.from_environment()))
    except (LocalNeo4jError, DatabaseUnavailable) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for violation in violations:
        print(violation)
    print(f"{len(violations)} violation(s)")
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
