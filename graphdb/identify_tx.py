"""The identify transaction function and the cluster reads, run by the repository's sessions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, LiteralString

from neo4j import AsyncManagedTransaction, Record
from neo4j.time import DateTime

from graphdb import cypher
from graphdb.ids import IdLender
from graphdb.records import ClusterRecord, ContactRecord, IdentifyOutcome, IdentifyRecord

# A torn read (a merge committing while a read runs) is retried; more than a few in a row would
# mean a cluster merged continuously, and the last read is answered anyway.
READ_ATTEMPTS = 5


@dataclass(frozen=True)
class _Primary:
    id: int
    created_at: DateTime

    @property
    def seniority(self) -> tuple[DateTime, int]:
        """The oldest contact wins a merge; equal times fall back to the lower id."""
        return (self.created_at, self.id)


async def identify_transaction(
    tx: AsyncManagedTransaction,
    email: str | None,
    phone: str | None,
    ids: IdLender,
    created_at: datetime | None = None,
) -> IdentifyRecord:
    """The identify transaction. The driver may run it again on a deadlock: it only touches tx.

    created_at is the new contact's time when it is not now (a historical order being imported).

    Locking, so that requests on the same clusters serialise and others never wait:
    1. The request's Email and Phone nodes (MERGEd, emails before phones). While they are held
       nobody can attach a contact to them, so "is this value new?" cannot change under us.
    2. The primaries of the clusters they belong to, in ascending id order. Every change to a
       cluster (a new secondary, a merge, a relink) is made holding its primary's lock, so once
       held the clusters are frozen. A primary can be demoted while we wait for its lock, so
       after locking we read the primaries again and lock any new one, until nothing changes.
    A transaction holding a primary that was demoted meanwhile can meet a merge that relinks it:
    Neo4j detects that cycle (DeadlockDetected) and execute_write runs the function again.
    3. Once the request touches one frozen cluster (or none), the locking statement itself adds
       the contact a new value needs, or reads the cluster when nothing is new. Only a merge
       takes a statement of its own.
    """
    # Lent before the locks, since the locking statement itself may create the contact; an id
    # not used goes back to the allocator after the commit (IdLender.settle).
    contact_id = ids.lend()
    seen = await _locked_read(
        tx, cypher.LOCK_AND_READ, email=email, phone=phone, id=contact_id, createdAt=created_at
    )
    locked = set(seen.locked_ids)
    while not seen.primaries.keys() <= locked:
        primary_ids = sorted(seen.primaries.keys() | locked)
        seen = await _locked_read(
            tx, cypher.LOCK_PRIMARIES_AND_READ,
            primaryIds=primary_ids, email=email, phone=phone, id=contact_id, createdAt=created_at,
        )  # fmt: skip
        locked.update(seen.locked_ids)

    if seen.created is not None:
        return IdentifyRecord(_decided(seen), seen.created)
    winner, *losers = sorted(seen.primaries.values(), key=lambda primary: primary.seniority)
    if losers:
        cluster = await _write_and_read(
            tx, cypher.MERGE_CLUSTERS_AND_READ,
            winnerId=winner.id, loserIds=[loser.id for loser in losers],
        )  # fmt: skip
        return IdentifyRecord(cluster, IdentifyOutcome.MERGED)
    return IdentifyRecord(_decided(seen), IdentifyOutcome.NOTHING_NEW)


def _decided(seen: _Seen) -> ClusterRecord:
    # The locking statement reads the cluster whenever it decided the request on its own.
    if seen.cluster is None:
        raise LookupError("the locking statement decided but returned no cluster")
    return seen.cluster


@dataclass(frozen=True)
class _Seen:
    """What one locking statement saw and did: the primaries via email and phone, the cluster
    when it decided the request, and the contact it created if it did."""

    locked_ids: tuple[int, ...]
    via_email: _Primary | None
    via_phone: _Primary | None
    cluster: ClusterRecord | None
    created: IdentifyOutcome | None

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
        _creation(record["created"]),
    )


def _creation(created: dict[str, Any] | None) -> IdentifyOutcome | None:
    if created is None:
        return None
    if created["linkPrecedence"] == "primary":
        return IdentifyOutcome.CREATED_PRIMARY
    return IdentifyOutcome.ADDED_SECONDARY


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


async def read_cluster_transaction(
    tx: AsyncManagedTransaction, statement: LiteralString, params: dict[str, Any]
) -> ClusterRecord | None:
    cluster = None
    for _ in range(READ_ATTEMPTS):
        record: Record | None = await (await tx.run(statement, params)).single(strict=False)
        cluster = None if record is None else _cluster(record)
        if cluster is None or record is None:
            return None
        if record["settled"] and record["memberId"] in {c.id for c in cluster.contacts}:
            return cluster
    return cluster


def _cluster(record: Record) -> ClusterRecord | None:
    if record["primary"] is None:
        return None
    primary = ContactRecord.from_node(record["primary"], linked_id=None)
    secondaries = tuple(
        ContactRecord.from_node(node, linked_id=primary.id) for node in record["secondaries"]
    )
    return ClusterRecord(primary, secondaries)
