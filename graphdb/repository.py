"""The contact repository: identify and cluster reads, each one managed Neo4j transaction."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, LiteralString

from neo4j import AsyncDriver, AsyncManagedTransaction, AsyncSession, unit_of_work
from neo4j.exceptions import AuthError, ClientError

from graphdb import cypher
from graphdb.batcher import Batcher
from graphdb.driver import ensure_constraints, pipelined_begin
from graphdb.errors import ENDED_TRANSACTION_CODES, DatabaseUnavailable, unavailable_as_error
from graphdb.events import CountedRuns, NoEvents, RepositoryEvents, RunsExhausted
from graphdb.identify_tx import RowFailed, identify_batch_transaction, read_cluster_transaction
from graphdb.ids import ContactIdAllocator
from graphdb.outage import OutageGate
from graphdb.planning import warm_up_plans
from graphdb.records import ClusterRecord, IdentifyRecord
from graphdb.requests import BatchRow, IdentifyRequest
from graphdb.warm_up import WarmUpReport, delete_scratch, warm_up_runtime


@dataclass(frozen=True)
class RepositoryLimits:
    # A bound on any one call, retries included: a request ends in an answer or a 503.
    timeout: float = 10.0
    # Identify transactions in flight at once from this process at most, each a batch. A second
    # starts only when the one under way has run for `slot_patience` seconds (graphdb.batcher):
    # one at a time makes the largest batches, the cheapest for Neo4j and the driver.
    max_in_flight: int = 4
    slot_patience: float = 0.025
    # Requests in one identify transaction at most.
    batch_max: int = 64
    id_block_size: int = 64


# Runs of a batch's transaction (the first and the driver's retries after deadlocks) before the
# batch is split in two: a batch that keeps meeting others is better run in smaller pieces.
BATCH_RUNS_BEFORE_SPLIT = 3

log = logging.getLogger(__name__)


class ContactRepository:
    def __init__(
        self,
        driver: AsyncDriver,
        database: str,
        limits: RepositoryLimits | None = None,
        events: RepositoryEvents | None = None,
    ) -> None:
        self._driver = driver
        self._database = database
        self._limits = limits or RepositoryLimits()
        self._events = events or NoEvents()
        self._ids = ContactIdAllocator(driver, database, self._limits.id_block_size, self._events)
        self._batcher: Batcher[IdentifyRequest, IdentifyRecord] = Batcher(
            self._commit_batch,
            max_batch=self._limits.batch_max,
            slots=self._limits.max_in_flight,
            patience=self._limits.slot_patience,
        )
        self._outage = OutageGate(probe=self._probe)
        self._preparing = asyncio.Lock()
        self._ready = False
        # Whether warm_up has run its course (or failed): readiness waits for it.
        self.warmed_up = False
        self._identify_calls = 0
        # Neo4j ends the transaction itself a little before the caller gives up, so a request
        # that timed out leaves no locks behind it.
        self._identify_work = unit_of_work(timeout=self._limits.timeout * 0.9)(
            identify_batch_transaction
        )

    async def prepare(self) -> None:
        """Constraints, then every statement planned once, before traffic arrives."""
        async with (
            unavailable_as_error(self._events),
            asyncio.timeout(self._limits.timeout),
            self._outage.passage(),
            self._preparing,
        ):
            # Requests that queued here behind the first one find the work done.
            if not self._ready:
                await self._make_schema_and_plans()

    async def _probe(self) -> None:
        # The outage probe does it all again: a restarted Neo4j has lost its plans.
        async with self._preparing:
            await self._make_schema_and_plans()

    async def _make_schema_and_plans(self) -> None:
        await ensure_constraints(self._driver, self._database)
        await warm_up_plans(self._driver, self._database)
        self._ready = True

    async def warm_up(self, bound: float) -> WarmUpReport:
        """Runs the identify transaction hot on scratch customers until Neo4j's compiler falls
        quiet or `bound` seconds have passed (graphdb.warm_up), then marks the repository warmed
        up. Call after prepare; delete_warm_up_data removes the scratch data, later."""
        try:
            async with unavailable_as_error(self._events), self._outage.passage():
                return await warm_up_runtime(
                    self._driver, self._database, bound, lambda: self._identify_calls
                )
        finally:
            self.warmed_up = True

    async def delete_warm_up_data(self, report: WarmUpReport, *, gently: bool = True) -> None:
        async with unavailable_as_error(self._events):
            await delete_scratch(self._driver, self._database, report, gently=gently)

    async def close(self) -> None:
        await self._batcher.close()
        await self._outage.close()

    async def identify(
        self, email: str | None, phone: str | None, created_at: datetime | None = None
    ) -> IdentifyRecord:
        """Link one (email, phone) sighting into its cluster; arguments are already canonical.

        created_at (timezone-aware) dates a historical sighting; None means now. Concurrent calls
        share transactions (graphdb.batcher); each answer is its own request's cluster as
        committed.
        """
        if created_at is not None and created_at.tzinfo is None:
            # Neo4j would store a local time, which neither orders nor compares with zoned ones.
            raise ValueError("created_at must carry a timezone")
        if email is None and phone is None:
            raise ValueError("identify needs an email or a phone")
        if not self._ready:
            await self.prepare()
        self._identify_calls += 1
        async with (
            unavailable_as_error(self._events),
            asyncio.timeout(self._limits.timeout),
            # A request that arrives while Neo4j is known to be down fails here at once.
            self._outage.passage(),
        ):
            return await self._batcher.submit(IdentifyRequest(email, phone, created_at))

    async def _commit_batch(
        self, requests: list[IdentifyRequest]
    ) -> list[IdentifyRecord | Exception]:
        """One transaction for the batch if it can; a failure of Neo4j fails every request."""
        rows = [BatchRow(request, self._ids.lender()) for request in requests]
        try:
            async with (
                unavailable_as_error(self._events),
                asyncio.timeout(self._limits.timeout),
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

    async def _commit(self, rows: list[BatchRow]) -> list[IdentifyRecord | Exception]:
        """Commits the rows, splitting them when one fails on its own data or when they keep
        deadlocking; a row that fails alone gets its own error, and its batchmates commit."""
        try:
            async with self._driver.session(database=self._database) as session:
                work = CountedRuns(
                    self._identify_work,
                    "identify",
                    self._events,
                    max_runs=BATCH_RUNS_BEFORE_SPLIT if len(rows) > 1 else None,
                )
                with pipelined_begin(session):
                    records = await session.execute_write(work, rows)
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
            row.ids.settle(used=record.outcome.created)
        return list(records)

    async def _commit_each(self, parts: list[list[BatchRow]]) -> list[IdentifyRecord | Exception]:
        results: list[IdentifyRecord | Exception] = []
        for part in parts:
            results += await self._commit(part)
        return results

    @asynccontextmanager
    async def _read_session(self) -> AsyncIterator[AsyncSession]:
        """Bounded in time, and failing at once while Neo4j is known to be down."""
        async with (
            unavailable_as_error(self._events),
            asyncio.timeout(self._limits.timeout),
            self._outage.passage(),
            self._driver.session(database=self._database) as session,
        ):
            yield session

    async def cluster_by_id(self, contact_id: int) -> ClusterRecord | None:
        return await self._read(cypher.READ_CLUSTER_BY_ID, id=contact_id)

    async def cluster_by_email(self, email: str) -> ClusterRecord | None:
        return await self._read(cypher.READ_CLUSTER_BY_EMAIL, email=email)

    async def cluster_by_phone(self, phone: str) -> ClusterRecord | None:
        return await self._read(cypher.READ_CLUSTER_BY_PHONE, phone=phone)

    async def _read(self, statement: LiteralString, **params: Any) -> ClusterRecord | None:
        async with self._read_session() as session:
            work = CountedRuns(read_cluster_transaction, "read_cluster", self._events)
            return await session.execute_read(work, statement, params)

    async def missing_constraints(self) -> list[str]:
        """The uniqueness constraints identify relies on that Neo4j lacks, as `Label.property`."""
        async with self._read_session() as session:
            work = CountedRuns(_unique_properties, "readiness", self._events)
            present = await session.execute_read(work)
        return [
            f"{label}.{prop}"
            for label, prop in cypher.UNIQUE_PROPERTIES
            if (label, prop) not in present
        ]


async def _unique_properties(tx: AsyncManagedTransaction) -> set[tuple[str, str]]:
    result = await tx.run(cypher.UNIQUE_PROPERTIES_PRESENT)
    return {(record["label"], record["property"]) async for record in result}


def _own_failure(error: Exception) -> bool:
    """A failure that splitting the batch can isolate, as opposed to Neo4j being unavailable."""
    if isinstance(error, AuthError):
        return False
    return not (isinstance(error, ClientError) and error.code in ENDED_TRANSACTION_CODES)


def _in_order(
    rows: list[BatchRow], ran: list[BatchRow], results: list[IdentifyRecord | Exception]
) -> list[IdentifyRecord | Exception]:
    by_row = {id(row): result for row, result in zip(ran, results, strict=True)}
    return [by_row[id(row)] for row in rows]
