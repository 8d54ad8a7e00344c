"""The contact repository: identify and cluster reads, each one managed Neo4j transaction."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, LiteralString

from neo4j import AsyncDriver, AsyncManagedTransaction, AsyncSession, unit_of_work

from graphdb import cypher
from graphdb.driver import ensure_constraints
from graphdb.errors import unavailable_as_error
from graphdb.events import CountedRuns, NoEvents, RepositoryEvents
from graphdb.identify_tx import identify_transaction, read_cluster_transaction
from graphdb.ids import ContactIdAllocator
from graphdb.keyed_locks import KeyedLocks
from graphdb.outage import OutageGate
from graphdb.records import ClusterRecord, IdentifyOutcome, IdentifyRecord
from graphdb.warm_up import warm_up_plans


@dataclass(frozen=True)
class RepositoryLimits:
    # A bound on any one call, retries included: a request ends in an answer or a 503.
    timeout: float = 10.0
    # Transactions in flight at once from this process. Past a few per core Neo4j gains no
    # throughput, and a crowd of transactions all planning or waiting at once costs it CPU.
    max_in_flight: int = 16
    id_block_size: int = 64


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
        self._in_flight = asyncio.Semaphore(self._limits.max_in_flight)
        self._identifier_locks = KeyedLocks()
        self._outage = OutageGate(probe=self._probe)
        self._preparing = asyncio.Lock()
        self._ready = False
        # Neo4j ends the transaction itself a little before the caller gives up, so a request
        # that timed out leaves no locks behind it.
        self._identify_work = unit_of_work(timeout=self._limits.timeout * 0.9)(identify_transaction)

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

    async def close(self) -> None:
        await self._outage.close()

    async def identify(
        self, email: str | None, phone: str | None, created_at: datetime | None = None
    ) -> IdentifyRecord:
        """Link one (email, phone) sighting into its cluster; arguments are already canonical.

        created_at (timezone-aware) dates a historical sighting; None means now.
        """
        if created_at is not None and created_at.tzinfo is None:
            # Neo4j would store a local time, which neither orders nor compares with zoned ones.
            raise ValueError("created_at must carry a timezone")
        if not self._ready:
            await self.prepare()
        keys = [("email", email)] if email is not None else []
        keys += [("phone", phone)] if phone is not None else []
        async with (
            unavailable_as_error(self._events),
            asyncio.timeout(self._limits.timeout),
            # Requests on the same email or phone wait here, cheaply, rather than in Neo4j's
            # lock manager; Neo4j's locks are what keeps them correct (see identify_tx).
            self._identifier_locks.hold(keys),
            self._in_flight,
            # Last: a request that queued above while Neo4j went down fails here at once.
            self._outage.passage(),
        ):
            await self._ids.keep_at_least(self._limits.max_in_flight)
            ids = self._ids.lender()
            async with self._driver.session(database=self._database) as session:
                work = CountedRuns(self._identify_work, "identify", self._events)
                result = await session.execute_write(work, email, phone, ids, created_at)
        created = result.outcome in (
            IdentifyOutcome.CREATED_PRIMARY,
            IdentifyOutcome.ADDED_SECONDARY,
        )
        ids.settle(used=created)
        return result

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
