"""The contact repository: identify and cluster reads, each one managed Neo4j transaction."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any, LiteralString

from neo4j import AsyncDriver, AsyncManagedTransaction, AsyncSession, unit_of_work

from graphdb import cypher
from graphdb.batcher import Batcher
from graphdb.committer import BatchCommitter
from graphdb.conflicts import ConflictRecord, list_conflicts, merge_on_purpose
from graphdb.driver import ensure_constraints, rolled_back
from graphdb.erasure import ContactGone, ErasedValue, Erasure, ErasureResult, erase
from graphdb.errors import unavailable_as_error
from graphdb.events import CountedRuns, NoEvents, RepositoryEvents
from graphdb.explain import Explanation, explain_link
from graphdb.idempotency import DEFAULT_HOURS, PURGE_CHUNK, LiveKeyCounts, purge_expired
from graphdb.identify_tx import (
    MOST,
    LinkRules,
    identify_at_once,
    identify_batch_transaction,
    read_cluster_transaction,
    read_contacts_transaction,
)
from graphdb.ids import CONTACT_IDS, IdSequence
from graphdb.ledger import EventRecord, ValueTokens, read_history
from graphdb.migrations import migrate
from graphdb.outage import OutageGate
from graphdb.planning import warm_up_plans
from graphdb.records import (
    ClusterRecord,
    ContactRecord,
    IdentifyOutcome,
    IdentifyRecord,
    IdentityWarning,
)
from graphdb.requests import IdentifyRequest
from graphdb.warm_up import WarmUpReport, new_prefix, scratch_ids, warm_up_runtime

# Limits no warm-up reaches.
UNCAPPED = LinkRules(max_contacts_per_identifier=MOST, max_cluster_contacts=MOST)


@dataclass(frozen=True)
class RepositoryLimits:
    # A bound on any one call, retries included: a request ends in an answer or a 503.
    timeout: float = 10.0
    # A bound on making the schema and planning every statement. A Neo4j whose JVM has just
    # started plans slowly: 11 s for all of them here (the identify batch statement alone 6.5 s),
    # against half a second once warm. Only the first requests of a process wait on it.
    prepare_timeout: float = 60.0
    # Identify transactions in flight at once from this process at most, each a batch. A second
    # starts only when the one under way has run for `slot_patience` seconds (graphdb.batcher):
    # one at a time makes the largest batches, the cheapest for Neo4j and the driver.
    max_in_flight: int = 4
    slot_patience: float = 0.025
    # Requests in one identify transaction at most.
    batch_max: int = 64
    # Hubs and the cluster cap (docs/rules.md).
    link: LinkRules = field(default_factory=LinkRules)
    # How long an Idempotency-Key's answer is kept (graphdb.idempotency).
    idempotency_hours: int = DEFAULT_HOURS
    # New Idempotency-Keys one caller may store per process over those hours; None: no cap.
    idempotency_keys_per_caller: int | None = None


class ContactRepository:
    def __init__(
        self,
        driver: AsyncDriver,
        database: str,
        limits: RepositoryLimits | None = None,
        events: RepositoryEvents | None = None,
        *,
        tokens: ValueTokens | None = None,
        outbox: bool = False,
    ) -> None:
        self._driver = driver
        # The keyed hashes the ledger records values by (the logs' key, in the service).
        self._tokens = tokens or ValueTokens()
        # Whether the ledger's events go out to webhooks (graphdb.outbox).
        self._outbox = outbox
        self._database = database
        self._limits = limits or RepositoryLimits()
        self._events = events or NoEvents()
        self._outage = OutageGate(probe=self._probe)
        self._preparing = asyncio.Lock()
        self._ready = False
        # Whether warm_up has run its course (or failed): readiness waits for it.
        self.warmed_up = False
        self._identify_calls = 0
        self._batcher = self._batcher_of(CONTACT_IDS, self._events)
        self._live_keys = LiveKeyCounts(
            self._limits.idempotency_keys_per_caller, self._limits.idempotency_hours
        )

    def _batcher_of(
        self,
        ids: IdSequence,
        events: RepositoryEvents,
        link: LinkRules | None = None,
        outbox: bool | None = None,
    ) -> Batcher[IdentifyRequest, IdentifyRecord]:
        rules = link or self._limits.link
        outbox = self._outbox if outbox is None else outbox
        # Neo4j ends the transaction itself a little before the caller gives up, so a request
        # that timed out leaves no locks behind it.
        server_timeout = self._limits.timeout * 0.9
        work = unit_of_work(timeout=server_timeout)(
            partial(
                identify_batch_transaction,
                rules=rules,
                key_hours=self._limits.idempotency_hours,
                outbox=outbox,
                ids=ids,
            )
        )
        at_once = partial(
            identify_at_once, rules=rules, outbox=outbox, ids=ids, server_timeout=server_timeout
        )
        committer = BatchCommitter(
            self._driver,
            self._database,
            work=work,
            at_once=at_once,
            events=events,
            outage=self._outage,
            timeout=self._limits.timeout,
        )
        return Batcher(
            committer,
            max_batch=self._limits.batch_max,
            slots=self._limits.max_in_flight,
            patience=self._limits.slot_patience,
        )

    async def prepare(self) -> None:
        """Constraints, then every statement planned once, before traffic arrives."""
        async with (
            unavailable_as_error(self._events),
            asyncio.timeout(max(self._limits.timeout, self._limits.prepare_timeout)),
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
        await migrate(self._driver, self._database)
        await warm_up_plans(self._driver, self._database)
        self._ready = True

    async def warm_up(self, bound: float) -> WarmUpReport:
        """Sends identify traffic on scratch customers, through a batcher of its own, until
        Neo4j's compiler falls quiet, real traffic arrives, or `bound` seconds have passed
        (graphdb.warm_up); then marks the repository warmed up. Call after prepare. Leaves no
        scratch data behind, and counts nothing in the metrics."""
        # Scratch customers reuse their values far more than real ones: under the service's
        # caps they would make hubs, whose unlinked contacts the clean-up (which follows
        # HAS_EMAIL and HAS_PHONE) would never reach. They run the same statements uncapped.
        # Nor do their events go out: they are deleted with them.
        prefix = new_prefix()
        scratch = self._batcher_of(scratch_ids(prefix), NoEvents(), UNCAPPED, outbox=False)
        try:
            async with unavailable_as_error(self._events), self._outage.passage():
                return await warm_up_runtime(
                    self._driver,
                    self._database,
                    bound,
                    scratch.submit,
                    prefix=prefix,
                    traffic=lambda: self._identify_calls,
                )
        finally:
            await scratch.close()
            self.warmed_up = True

    async def close(self) -> None:
        await self._batcher.close()
        await self._outage.close()

    async def identify(
        self, email: str | None, phone: str | None, created_at: datetime | None = None
    ) -> IdentifyRecord:
        """Link one (email, phone) sighting into its cluster; arguments are already canonical.

        created_at (timezone-aware) dates a historical sighting; None means now.
        """
        return await self.identify_request(IdentifyRequest(email, phone, created_at))

    async def identify_request(self, request: IdentifyRequest) -> IdentifyRecord:
        """Link one sighting, its blocked values and as-sent texts included. Concurrent calls
        share transactions (graphdb.batcher); each answer is its own request's cluster as
        committed."""
        if request.created_at is not None and request.created_at.tzinfo is None:
            # Neo4j would store a local time, which neither orders nor compares with zoned ones.
            raise ValueError("created_at must carry a timezone")
        values = (request.email, request.phone, request.blocked_email, request.blocked_phone)
        if all(value is None for value in values):
            raise ValueError("identify needs an email or a phone")
        if not self._ready:
            await self.prepare()
        self._identify_calls += 1
        claim = request.idempotency
        if claim is not None and not self._live_keys.allows_new(claim.caller):
            # Past the cap a key stored before is still answered; a new one is refused.
            claim = dataclasses.replace(claim, new_allowed=False)
        request = dataclasses.replace(
            request,
            email_token=self._tokens("email", request.email),
            phone_token=self._tokens("phone", request.phone),
            idempotency=claim,
        )
        async with (
            unavailable_as_error(self._events),
            asyncio.timeout(self._limits.timeout),
            # A request that arrives while Neo4j is known to be down fails here at once.
            self._outage.passage(),
        ):
            linked = await self._batcher.submit(request)
        blocked = tuple(
            (IdentityWarning.BLOCKED_IDENTIFIER, field)
            for field, value in (
                ("email", request.blocked_email),
                ("phoneNumber", request.blocked_phone),
            )
            if value is not None
        )
        if claim is not None and linked.outcome is not IdentifyOutcome.REPLAYED:
            self._live_keys.stored(claim.caller)
        record = IdentifyRecord(linked.cluster, linked.outcome, blocked + linked.warnings)
        self._events.identified(record.outcome)
        for warning, _field in record.warnings:
            self._events.warned(warning)
        return record

    async def merge_clusters(
        self, one: int, other: int, request_id: str | None = None
    ) -> ClusterRecord | None:
        """Merges the clusters of two contacts on purpose, past the cluster cap; None when a
        contact does not exist."""
        if not self._ready:
            await self.prepare()
        async with self._session() as session:
            work = CountedRuns(merge_on_purpose, "merge_clusters", self._events)
            return await session.execute_write(
                work, (one, other), self._limits.link.relink_chunk, request_id, self._outbox
            )

    async def history(self, contact_id: int, first: int, after: str | None) -> list[EventRecord]:
        """The ledger of a contact's cluster, newest first: `first` events after the event id
        `after`. HistoryNotFound if the contact or the cursor does not exist."""
        async with self._session() as session:
            work = CountedRuns(read_history, "read_history", self._events)
            return await session.execute_read(work, contact_id, first, after)

    async def explain(self, a: int, b: int) -> Explanation:
        """Whether two contacts share a cluster, and the shortest chain of evidence joining
        them; ContactNotFound if either does not exist."""
        async with self._session() as session:
            work = CountedRuns(explain_link, "explain", self._events)
            return await session.execute_read(work, a, b)

    async def erase_identifier(
        self,
        email: str | None,
        phone: str | None,
        *,
        earlier_forms: Sequence[tuple[str, str]] = (),
        dry_run: bool = False,
        request_id: str | None = None,
    ) -> ErasureResult:
        """Erases canonical values from every contact and node, and recomputes the clusters
        they were in (graphdb.erasure); a dry run answers the same and writes nothing.
        `earlier_forms`, as (kind, value), are the same values as earlier rules stored them:
        erased too, wherever found."""
        given = [
            (kind, value)
            for kind, value in (("email", email), ("phone", phone))
            if value is not None
        ]
        values = tuple(
            ErasedValue(kind, value, self._tokens(kind, value))
            for kind, value in dict.fromkeys([*given, *earlier_forms])
        )
        erasure = Erasure(values, request_id=request_id, outbox=self._outbox)
        return await self._erase(erasure, dry_run)

    async def erase_contact(
        self, contact_id: int, *, dry_run: bool = False, request_id: str | None = None
    ) -> ErasureResult | None:
        """Erases a contact: its values everywhere, and itself from every cluster (kept as a
        tombstone for the ledger's ids). None when no live contact has the id."""
        try:
            erasure = Erasure(contact_id=contact_id, request_id=request_id, outbox=self._outbox)
            return await self._erase(erasure, dry_run)
        except ContactGone:
            return None

    async def _erase(self, erasure: Erasure, dry_run: bool) -> ErasureResult:
        if not self._ready:
            await self.prepare()
        async with self._session() as session:
            if not dry_run:
                work = CountedRuns(erase, "erase", self._events)
                return await session.execute_write(work, erasure, self._tokens)
            # It answers what the erasure would.
            return await rolled_back(session, erase, erasure, self._tokens)

    async def purge_idempotency_keys(self) -> int:
        """Deletes the expired idempotency keys, a chunk per transaction; how many."""
        deleted = 0
        while True:
            async with self._session() as session:
                work = CountedRuns(purge_expired, "purge_idempotency_keys", self._events)
                chunk = await session.execute_write(work)
            deleted += chunk
            if chunk < PURGE_CHUNK:
                return deleted

    async def conflicts(self, first: int, after: str | None) -> list[ConflictRecord]:
        """Open conflicts in id order, up to `first` after the id `after` (which need not exist)."""
        async with self._session() as session:
            work = CountedRuns(list_conflicts, "read_conflicts", self._events)
            return await session.execute_read(work, first, after)

    async def contacts(self, contact_ids: list[int]) -> list[ContactRecord]:
        """Whole contacts, in the order asked (a page of a cluster); missing ones left out."""
        if not contact_ids:
            return []
        async with self._session() as session:
            work = CountedRuns(read_contacts_transaction, "read_contacts", self._events)
            return await session.execute_read(work, contact_ids)

    @asynccontextmanager
    async def _session(self) -> AsyncIterator[AsyncSession]:
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
        async with self._session() as session:
            work = CountedRuns(read_cluster_transaction, "read_cluster", self._events)
            return await session.execute_read(work, statement, params)

    async def missing_constraints(self) -> list[str]:
        """The uniqueness constraints identify relies on that Neo4j lacks, as `Label.property`."""
        async with self._session() as session:
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
