"""Which Neo4j driver failures mean "the database is unavailable", translated into one exception."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from neo4j.exceptions import (
    AuthError,
    ClientError,
    ConnectionPoolError,
    DatabaseError,
    ServiceUnavailable,
    SessionExpired,
    TransientError,
)

from graphdb.events import NoEvents, RepositoryEvents


class DatabaseUnavailable(Exception):
    """Neo4j could not be reached, or kept failing transiently past the retry budget. Every API
    answers it with this code and message (and HTTP 503): what the caller may be told."""

    code = "database_unavailable"
    answer = "The database is unavailable; retry shortly."


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


# Client errors that say "this transaction was ended", not "this statement is wrong": an operator
# terminated it, the server shut down under it, or it ran past its timeout.
ENDED_TRANSACTION_CODES = frozenset(
    {
        "Neo.ClientError.Transaction.Terminated",
        "Neo.ClientError.Transaction.LockClientStopped",
        "Neo.ClientError.Transaction.TransactionTimedOut",
        "Neo.ClientError.Transaction.TransactionTimedOutClientConfiguration",
    }
)


FAILURE_KINDS = ("unavailable", "transient", "timeout", "auth", "ended", "other")


def failure_kind(error: Exception) -> str:
    """A small fixed set of labels, so a metric split by kind stays small."""
    if isinstance(error, ServiceUnavailable | SessionExpired | ConnectionPoolError):
        return "unavailable"
    if isinstance(error, TransientError):
        return "transient"
    if isinstance(error, TimeoutError):
        return "timeout"
    if isinstance(error, AuthError):
        return "auth"
    if isinstance(error, ClientError) and error.code in ENDED_TRANSACTION_CODES:
        return "ended"
    return "other"


@asynccontextmanager
async def unavailable_as_error(events: RepositoryEvents | None = None) -> AsyncIterator[None]:
    events = events or NoEvents()
    try:
        yield
    except UNAVAILABLE as error:
        events.neo4j_failed(failure_kind(error))
        raise DatabaseUnavailable(f"Neo4j is unavailable: {type(error).__name__}") from error
    except ClientError as error:
        events.neo4j_failed(failure_kind(error))
        if error.code not in ENDED_TRANSACTION_CODES:
            raise
        raise DatabaseUnavailable(f"Neo4j ended the transaction: {error.code}") from error
