"""Commits a batch of identify requests in one transaction, splitting it when it must."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from neo4j import AsyncDriver
from neo4j.exceptions import AuthError, ClientError

from graphdb.driver import pipelined_begin
from graphdb.errors import ENDED_TRANSACTION_CODES, DatabaseUnavailable, unavailable_as_error
from graphdb.events import CountedRuns, RepositoryEvents, RunsExhausted
from graphdb.identify_tx import RowFailed
from graphdb.ids import IdLender
from graphdb.outage import OutageGate
from graphdb.records import IdentifyRecord
from graphdb.requests import BatchRow, IdentifyRequest

# Runs of a batch's transaction (the first and the driver's retries after deadlocks) before the
# batch is split in two: a batch that keeps meeting others is better run in smaller pieces.
BATCH_RUNS_BEFORE_SPLIT = 3

log = logging.getLogger(__name__)

Outcome = IdentifyRecord | Exception


class IdSource(Protocol):
    """Where new contacts' ids come from: the allocator, or the warm-up's scratch ids."""

    async def keep_at_least(self, count: int) -> None: ...

    def lender(self) -> IdLender: ...


class BatchCommitter:
    """The batcher's run function: each request of a batch answered with its record or error."""

    def __init__(
        self,
        driver: AsyncDriver,
        database: str,
        *,
        work: Callable[..., Awaitable[Any]],
        ids: IdSource,
        events: RepositoryEvents,
        outage: OutageGate,
        timeout: float,
    ) -> None:
        self._driver = driver
        self._database = database
        # The transaction function, with the unit_of_work timeout the driver reads off it.
        self._work = work
        self._ids = ids
        self._events = events
        self._outage = outage
        self._timeout = timeout

    async def __call__(self, requests: list[IdentifyRequest]) -> list[Outcome]:
        """One transaction for the batch if it can; a failure of Neo4j fails every request."""
        rows = [BatchRow(request, self._ids.lender()) for request in requests]
        try:
            async with (
                unavailable_as_error(self._events),
                asyncio.timeout(self._timeout),
                # Last: a batch that queued while Neo4j went down fails here at once.
                self._outage.passage(),
            ):
                await self._ids.keep_at_least(len(rows))
                # At once, with no await since the ids were counted: other batches lend too.
                for row in rows:
                    row.ids.lend()
                return await self._commit(rows)
        except DatabaseUnavailable as error:
            return [error] * len(rows)

    async def _commit(self, rows: list[BatchRow]) -> list[Outcome]:
        """Commits the rows, splitting them when one fails on its own data or when they keep
        deadlocking; a row that fails alone gets its own error, and its batchmates commit."""
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
        for row, record in zip(rows, records, strict=True):
            row.ids.settle(used=isinstance(record, IdentifyRecord) and record.outcome.created)
        return list(records)

    async def _commit_each(self, parts: list[list[BatchRow]]) -> list[Outcome]:
        results: list[Outcome] = []
        for part in parts:
            results += await self._commit(part)
        return results


def _own_failure(error: Exception) -> bool:
    """A failure that splitting the batch can isolate, as opposed to Neo4j being unavailable."""
    if isinstance(error, AuthError):
        return False
    return not (isinstance(error, ClientError) and error.code in ENDED_TRANSACTION_CODES)


def _in_order(rows: list[BatchRow], ran: list[BatchRow], results: list[Outcome]) -> list[Outcome]:
    by_row = {id(row): result for row, result in zip(ran, results, strict=True)}
    return [by_row[id(row)] for row in rows]
