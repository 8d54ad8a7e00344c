"""Which Neo4j driver failures mean "the database is unavailable", translated into one exception."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from neo4j.exceptions import (
    AuthError,
    ConnectionPoolError,
    DatabaseError,
    ServiceUnavailable,
    SessionExpired,
    TransientError,
)


class DatabaseUnavailable(Exception):
    """Neo4j could not be reached, or kept failing transiently past the retry budget."""


# Everything here is about reaching or operating the server. A ClientError that is not an
# AuthError is a bug in a statement and stays an internal error.
UNAVAILABLE = (
    ServiceUnavailable,
    SessionExpired,
    TransientError,
    ConnectionPoolError,
    DatabaseError,
    AuthError,
    TimeoutError,
)


@asynccontextmanager
async def unavailable_as_error() -> AsyncIterator[None]:
    try:
        yield
    except UNAVAILABLE as error:
        raise DatabaseUnavailable(f"Neo4j is unavailable: {type(error).__name__}") from error
