"""Held-back merges: the open conflicts, and the merge an operator makes on purpose."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from neo4j import AsyncManagedTransaction

from graphdb import cypher
from graphdb.driver import Tx
from graphdb.identify_tx import merge_clusters, read_clusters_of_contacts
from graphdb.ledger import BridgeKind, MergeCause
from graphdb.records import ClusterRecord, native_time


@dataclass(frozen=True)
class ConflictRecord:
    """Two clusters a request bridged, kept apart by the cluster cap. Each side is named by its
    primary now; the values are the request's."""

    id: str
    email_primary_id: int
    phone_primary_id: int
    email: str
    phone_number: str
    request_id: str | None
    last_request_id: str | None
    requests: int
    first_at: str
    last_at: str

    @property
    def first_seen_at(self) -> datetime:
        return native_time(self.first_at)

    @property
    def last_seen_at(self) -> datetime:
        return native_time(self.last_at)


async def list_conflicts(
    tx: AsyncManagedTransaction, first: int, after: str | None
) -> list[ConflictRecord]:
    result = await tx.run(cypher.LIST_CONFLICTS, page={"first": first, "after": after})
    return [_conflict(record) async for record in result]


def _conflict(record: Any) -> ConflictRecord:
    conflict = record["conflict"]
    return ConflictRecord(
        id=conflict["key"],
        email_primary_id=record["emailPrimaryId"],
        phone_primary_id=record["phonePrimaryId"],
        email=conflict["email"],
        phone_number=conflict["phoneNumber"],
        request_id=conflict.get("requestId"),
        last_request_id=conflict.get("lastRequestId"),
        requests=conflict["requests"],
        first_at=conflict["firstAt"],
        last_at=conflict["lastAt"],
    )


async def lock_primaries(tx: Tx, contact_ids: list[int]) -> dict[int, tuple[int, int]]:
    """The primary of each contact, as (createdAt, id) so that sorting puts the oldest first,
    with every one of them locked: in the global order (ascending ids), read again until no merge
    demoted one while we waited. A contact that does not exist is left out."""
    locked: list[int] = []
    while True:
        merge = {"lockIds": locked, "contactIds": contact_ids}
        result = await tx.run(cypher.LOCK_AND_FIND_PRIMARIES, merge=merge)
        primaries = {
            record["contactId"]: (record["createdAt"], record["primaryId"])
            async for record in result
        }
        wanted = {primary_id for _, primary_id in primaries.values()}
        if wanted <= set(locked):
            return primaries
        locked = sorted(set(locked) | wanted)


async def merge_on_purpose(
    tx: Tx,
    contact_ids: tuple[int, int],
    relink_chunk: int,
    request_id: str | None = None,
    outbox: bool = False,
) -> ClusterRecord | None:
    """Merges the clusters of two contacts whatever their size (the cap holds back only
    identify's merges); None if either contact does not exist."""
    primaries = await lock_primaries(tx, list(contact_ids))
    if len(primaries) < len(set(contact_ids)):
        return None
    # Uncapped: an operator's merge is on purpose; the contacts named are its evidence.
    cause = MergeCause(
        BridgeKind.OPERATOR, request_id=request_id, contact_ids=contact_ids, outbox=outbox
    )
    merged = await merge_primaries(tx, primaries, relink_chunk, cause)
    if merged is not None:
        return merged
    (only,) = {primary_id for _, primary_id in primaries.values()}
    return (await read_clusters_of_contacts(tx, [only])).get(only)


async def merge_primaries(
    tx: Tx, primaries: dict[int, tuple[int, int]], relink_chunk: int, cause: MergeCause
) -> ClusterRecord | None:
    """The clusters of these locked primaries (as lock_primaries gives them) merged into the
    oldest; None when they are one cluster already, or none."""
    oldest_first = sorted(set(primaries.values()))
    if len(oldest_first) < 2:
        return None
    winner, *losers = (primary_id for _, primary_id in oldest_first)
    return await merge_clusters(tx, winner, losers, relink_chunk, cause)
