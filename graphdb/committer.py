"""Commits a batch of identify requests: one auto-commit statement when it decides them all, a
managed transaction for what it leaves, split when it must."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from neo4j import AsyncDriver, AsyncSession
from neo4j.exceptions import (
    AuthError,
    ClientError,
    ConnectionPoolError,
    ServiceUnavailable,
    SessionExpired,
    TransientError,
)

from graphdb.driver import pipelined_begin
from graphdb.errors import ENDED_TRANSACTION_CODES, DatabaseUnavailable, unavailable_as_error
from graphdb.events import CountedRuns, RepositoryEvents, RunsExhausted
from graphdb.identify_tx import RowFailed
from graphdb.outage import OutageGate
from graphdb.records import IdentifyRecord
from graphdb.requests import IdentifyRequest

# Runs of a batch's transaction (the first and the driver's retries after deadlocks) before the
# batch is split in two: a batch that keeps meeting others is better run in smaller pieces.
BATCH_RUNS_BEFORE_SPLIT = 3

# What the auto-commit statement may fail with and the managed transaction then retries as the
# driver does (deadlocks, a connection lost): nothing of it committed, or, if the connection was
# lost as it committed, running it again changes nothing (identify makes nothing twice).
RETRIED_MANAGED = (TransientError, ServiceUnavailable, SessionExpired, ConnectionPoolError)

log = logging.getLogger(__name__)

Outcome = IdentifyRecord | Exception
AtOnce = Callable[[AsyncSession, list[IdentifyRequest]], Awaitable[list[IdentifyRecord | None]]]


class BatchCommitter:
    """The batcher's run function: each request of a batch answered with its record or error.

    A batch without idempotency keys goes first as one auto-commit statement (`at_once`), which
    decides most batches whole in one round trip; the requests it leaves (merges, primaries
    demoted meanwhile), and batches with keys, take a managed transaction (`work`).
    """

    def __init__(
        self,
        driver: AsyncDriver,
        database: str,
        *,
        work: Callable[..., Awaitable[Any]],
        at_once: AtOnce | None,
        events: RepositoryEvents,
        outage: OutageGate,
        timeout: float,
    ) -> None:
        self._driver = driver
        self._database = database
        # The transaction function, with the unit_of_work timeout the driver reads off it.
        self._work = work
        self._at_once = at_once
        self._events = events
        self._outage = outage
        self._timeout = timeout

    async def __call__(self, requests: list[IdentifyRequest]) -> list[Outcome]:
        """Every request answered; a failure of Neo4j fails every request."""
        try:
            async with (
                unavailable_as_error(self._events),
                asyncio.timeout(self._timeout),
                # Last: a batch that queued while Neo4j went down fails here at once.
                self._outage.passage(),
            ):
                decided = await self._commit_at_once(requests)
                left = [
                    request
                    for request, record in zip(requests, decided, strict=True)
                    if record is None
                ]
                rest = iter(await self._commit(left) if left else [])
                return [next(rest) if record is None else record for record in decided]
        except DatabaseUnavailable as error:
            return [error] * len(requests)

    async def _commit_at_once(self, requests: list[IdentifyRequest]) -> list[Outcome | None]:
        """The records the auto-commit statement decided; None for each request it left, or for
        all of them when it could not run (keys to claim) or failed."""
        if self._at_once is None or any(request.idempotency is not None for request in requests):
            return [None] * len(requests)
        try:
            async with self._driver.session(database=self._database) as session:
                decided = await self._at_once(session, requests)
        except (*RETRIED_MANAGED, RowFailed, ClientError, LookupError, ValueError) as error:
            if not _own_failure(error):
                raise
            # The managed transaction retries it (deadlocks, a lost connection) or splits it.
            self._events.transaction_retried("identify")
            return [None] * len(requests)
        if made := sum(record is not None for record in decided):
            self._events.batch_committed(made)
        return list(decided)

    async def _commit(self, rows: list[IdentifyRequest]) -> list[Outcome]:
        """Commits the rows in a managed transaction, splitting them when one fails on its own
        data or when they keep deadlocking; a row that fails alone gets its own error, and its
        batchmates commit."""
        try:
            async with self._driver.session(database=self._database) as session:
                work = CountedRuns(
                    self._work,
                    "identify",
                    self._events,
                    max_runs=BATCH_RUNS_BEFORE_SPLIT if len(rows) > 1 else None,
                )
                with pipelined_begin(session):
                    records: list[Outcome] = await session.execute_write(work, rows)
        except (RowFailed, RunsExhausted, ClientError, LookupError, ValueError) as error:
            if not _own_failure(error):
                raise
            if len(rows) == 1:
                log.error("identify failed on its own data", exc_info=error)
                return [error]
            if isinstance(error, RowFailed):
                failed = rows[error.index]
                rest = [row for row in rows if row is not failed]
                return _in_order(rows, [*rest, failed], await self._commit_each([rest, [failed]]))
            half = len(rows) // 2
            return await self._commit_each([rows[:half], rows[half:]])
        self._events.batch_committed(len(rows))
        return list(records)

    async def _commit_each(self, parts: list[list[IdentifyRequest]]) -> list[Outcome]:
        results: list[Outcome] = []
        for part in parts:
            results += await self._commit(part)
        return results


def _own_failure(error: Exception) -> bool:
    """A failure that splitting the batch can isolate, as opposed to Neo4j being unavailable."""
    if isinstance(error, AuthError):
        return False
    return not (isinstance(error, ClientError) and error.code in ENDED_TRANSACTION_CODES)


def _in_order(
    rows: list[IdentifyRequest], ran: list[IdentifyRequest], results: list[Outcome]
) -> list[Outcome]:
    by_row = {id(row): result for row, result in zip(ran, results, strict=True)}
    return [by_row[id(row)] for row in rows]
