"""The contact repository: identify and cluster reads, each one managed Neo4j transaction."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, LiteralString

from neo4j import AsyncDriver, AsyncManagedTransaction, Record
from neo4j.time import DateTime

from graphdb import cypher
from graphdb.driver import ensure_constraints
from graphdb.errors import unavailable_as_error
from graphdb.ids import ContactIdAllocator
from graphdb.records import ClusterRecord, ContactRecord, IdentifyOutcome, IdentifyRecord


@dataclass(frozen=True)
class _Primary:
    id: int
    created_at: DateTime

    @property
    def seniority(self) -> tuple[DateTime, int]:
        """The oldest contact wins a merge; equal times fall back to the lower id."""
        return (self.created_at, self.id)


class ContactRepository:
    def __init__(
        self, driver: AsyncDriver, database: str, id_block_size: int = 64, timeout: float = 10.0
    ) -> None:
        self._driver = driver
        self._database = database
        self._ids = ContactIdAllocator(driver, database, id_block_size)
        # A bound on any one call, retries included: a request ends in an answer or a 503.
        self._timeout = timeout
        self._schema_ready = False

    async def ensure_schema(self) -> None:
        async with unavailable_as_error(), asyncio.timeout(self._timeout):
            await ensure_constraints(self._driver, self._database)
        self._schema_ready = True

    async def identify(self, email: str | None, phone: str | None) -> IdentifyRecord:
        """Link one (email, phone) sighting into its cluster; arguments are already canonical."""
        if not self._schema_ready:
            await self.ensure_schema()
        async with unavailable_as_error(), asyncio.timeout(self._timeout):
            candidate_id = await self._ids.take()
            async with self._driver.session(database=self._database) as session:
                result = await session.execute_write(_identify, email, phone, candidate_id)
        if result.outcome not in (IdentifyOutcome.CREATED_PRIMARY, IdentifyOutcome.ADDED_SECONDARY):
            self._ids.give_back(candidate_id)
        return result

    async def cluster_by_id(self, contact_id: int) -> ClusterRecord | None:
        return await self._read_cluster(cypher.READ_CLUSTER_BY_ID, id=contact_id)

    async def cluster_by_email(self, email: str) -> ClusterRecord | None:
        return await self._read_cluster(cypher.READ_CLUSTER_BY_EMAIL, email=email)

    async def cluster_by_phone(self, phone: str) -> ClusterRecord | None:
        return await self._read_cluster(cypher.READ_CLUSTER_BY_PHONE, phone=phone)

    async def _read_cluster(self, statement: LiteralString, **params: Any) -> ClusterRecord | None:
        async with (
            unavailable_as_error(),
            asyncio.timeout(self._timeout),
            self._driver.session(database=self._database) as session,
        ):
            return await session.execute_read(_read_cluster, statement, params)


async def _identify(
    tx: AsyncManagedTransaction, email: str | None, phone: str | None, candidate_id: int
) -> IdentifyRecord:
    """The identify transaction. The driver may run it again on a deadlock: it only touches tx.

    Locking, so that requests on the same clusters serialise and others never wait:
    1. The request's Email and Phone nodes (MERGEd, emails before phones). While they are held
       nobody can attach a contact to them, so "is this value new?" cannot change under us.
    2. The primaries of the clusters they belong to, in ascending id order. Every change to a
       cluster (a new secondary, a merge, a relink) is made holding its primary's lock, so once
       held the clusters are frozen. A primary can be demoted while we wait for its lock, so
       after locking we read the primaries again and lock any new one, until nothing changes.
    A transaction holding a primary that was demoted meanwhile can meet a merge that relinks it:
    Neo4j detects that cycle (DeadlockDetected) and execute_write runs the function again.
    """
    seen = await _locked_read(tx, cypher.LOCK_AND_READ, email=email, phone=phone)
    # The identifier locks are held from the first statement on, so this cannot change later.
    email_is_new = email is not None and seen.via_email is None
    phone_is_new = phone is not None and seen.via_phone is None
    locked = set(seen.locked_ids)
    while not seen.primaries.keys() <= locked:
        primary_ids = sorted(seen.primaries.keys() | locked)
        seen = await _locked_read(
            tx, cypher.LOCK_PRIMARIES_AND_READ, primaryIds=primary_ids, email=email, phone=phone
        )
        locked.update(seen.locked_ids)

    if not seen.primaries:
        cluster = await _write_and_read(
            tx, cypher.CREATE_CONTACT_AND_READ,
            id=candidate_id, email=email, phone=phone, primaryId=None,
        )  # fmt: skip
        return IdentifyRecord(cluster, IdentifyOutcome.CREATED_PRIMARY)

    winner, *losers = sorted(seen.primaries.values(), key=lambda primary: primary.seniority)
    if losers:
        cluster = await _write_and_read(
            tx, cypher.MERGE_CLUSTERS_AND_READ,
            winnerId=winner.id, loserIds=[loser.id for loser in losers],
        )  # fmt: skip
        return IdentifyRecord(cluster, IdentifyOutcome.MERGED)
    if email_is_new or phone_is_new:
        cluster = await _write_and_read(
            tx, cypher.CREATE_CONTACT_AND_READ,
            id=candidate_id, email=email, phone=phone, primaryId=winner.id,
        )  # fmt: skip
        return IdentifyRecord(cluster, IdentifyOutcome.ADDED_SECONDARY)
    if seen.cluster is None or seen.cluster.primary.id != winner.id:
        raise LookupError(f"cluster of locked primary {winner.id} was not read")
    return IdentifyRecord(seen.cluster, IdentifyOutcome.NOTHING_NEW)


@dataclass(frozen=True)
class _Seen:
    """What one locking read saw: the primaries via email and phone, and one cluster."""

    locked_ids: tuple[int, ...]
    via_email: _Primary | None
    via_phone: _Primary | None
    cluster: ClusterRecord | None

    @property
    def primaries(self) -> dict[int, _Primary]:
        return {p.id: p for p in (self.via_email, self.via_phone) if p is not None}


async def _locked_read(
    tx: AsyncManagedTransaction, statement: LiteralString, **params: Any
) -> _Seen:
    record = await (await tx.run(statement, **params)).single(strict=True)
    return _Seen(
        tuple(record["lockedPrimaryIds"]),
        _primary(record["viaEmail"]),
        _primary(record["viaPhone"]),
        _cluster(record),
    )


def _primary(value: dict[str, Any] | None) -> _Primary | None:
    return None if value is None else _Primary(value["id"], value["createdAt"])


async def _write_and_read(
    tx: AsyncManagedTransaction, statement: LiteralString, **params: Any
) -> ClusterRecord:
    record = await (await tx.run(statement, **params)).single(strict=True)
    cluster = _cluster(record)
    if cluster is None:
        raise LookupError("a write returned no cluster")
    return cluster


async def _read_cluster(
    tx: AsyncManagedTransaction, statement: LiteralString, params: dict[str, Any]
) -> ClusterRecord | None:
    record: Record | None = await (await tx.run(statement, params)).single(strict=False)
    return None if record is None else _cluster(record)


def _cluster(record: Record) -> ClusterRecord | None:
    if record["primary"] is None:
        return None
    primary = ContactRecord.from_node(record["primary"], linked_id=None)
    secondaries = tuple(
        ContactRecord.from_node(node, linked_id=primary.id) for node in record["secondaries"]
    )
    return ClusterRecord(primary, secondaries)
