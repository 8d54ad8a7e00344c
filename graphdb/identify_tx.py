"""The identify transaction over a batch of requests, and the cluster reads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, LiteralString

from neo4j import AsyncManagedTransaction, AsyncResult, AsyncSession, Query, Record

from graphdb import cypher
from graphdb.driver import Tx
from graphdb.idempotency import (
    DEFAULT_HOURS,
    IdempotencyKeyReused,
    IdempotencyKeysExhausted,
    claim_keys,
    forget_claims,
    replay,
    store_answers,
)
from graphdb.ids import CONTACT_IDS, IdSequence
from graphdb.ledger import BridgeKind, MergeCause
from graphdb.records import (
    ClusterRecord,
    ContactRecord,
    IdentifyOutcome,
    IdentifyRecord,
    IdentityWarning,
    MemberRecord,
)
from graphdb.requests import IdentifyRequest, batch_params

# A torn read (a merge committing while a read runs) is retried; more than a few in a row would
# mean a cluster merged continuously, and the last read is answered anyway.
READ_ATTEMPTS = 5


# The largest limit: Cypher's LIMIT takes a 32-bit integer.
MOST = 2**31 - 1


@dataclass(frozen=True)
class LinkRules:
    """The guards against over-merging that identify applies in Neo4j (docs/rules.md)."""

    # A value carried by this many live contacts links no further contact: it is a hub.
    max_contacts_per_identifier: int = 50
    # A merge that would make a cluster larger than this is held back, and a conflict recorded.
    max_cluster_contacts: int = 1000
    # Secondaries relinked by one statement of a merge.
    relink_chunk: int = 500

    def __post_init__(self) -> None:
        limits = (self.max_contacts_per_identifier, self.max_cluster_contacts, self.relink_chunk)
        if not all(1 <= limit <= MOST for limit in limits):
            raise ValueError(f"the link rules' limits are 1 to {MOST}")


class RowFailed(Exception):
    """One row of a batch failed on its own data: the batch is split so that it fails alone."""

    def __init__(self, index: int, error: Exception) -> None:
        super().__init__(f"row {index} of the batch failed: {error!r}")
        self.index = index
        self.error = error


@dataclass(frozen=True)
class _Primary:
    id: int
    created_at: int  # microseconds since the epoch

    @property
    def seniority(self) -> tuple[int, int]:
        """The oldest contact wins a merge; equal times fall back to the lower id."""
        return (self.created_at, self.id)


@dataclass(frozen=True)
class _Seen:
    """What one locking statement saw and did for a row: the primaries via email and phone, the
    cluster when it decided the row, and the contact it created if it did."""

    index: int
    locked_ids: tuple[int, ...]
    via_email: _Primary | None
    via_phone: _Primary | None
    cluster: ClusterRecord | None
    created: IdentifyOutcome | None
    # Fields whose value is a hub, and so linked nothing.
    hubs: tuple[str, ...] = ()
    # Whether the primaries seen still stood once locked by this statement: the batch statement
    # finds them before it locks them, so a merge may have demoted one meanwhile.
    held: bool = True

    @property
    def primaries(self) -> dict[int, _Primary]:
        return {p.id: p for p in (self.via_email, self.via_phone) if p is not None}


@dataclass(frozen=True)
class _Answer:
    cluster: ClusterRecord
    outcome: IdentifyOutcome
    # The number of the transaction's last write this cluster was read after.
    read_after: int
    warnings: tuple[tuple[IdentityWarning, str], ...] = ()


@dataclass
class _Writes:
    """Which clusters this transaction changed, and when, counted in writes.

    Every change to a cluster is made holding its primary's lock, and names that primary: a new
    contact its cluster's primary, a merge the winner and every loser. A row answered with a
    cluster that a later write changed is read again before the transaction ends, so that every
    answer is its cluster as committed.
    """

    count: int = 0
    last_write_to: dict[int, int] = field(default_factory=dict)

    def record(self, primary_ids: Sequence[int]) -> int:
        self.count += 1
        for primary_id in primary_ids:
            self.last_write_to[primary_id] = self.count
        return self.count

    def changed_since(self, primary_ids: Sequence[int], read_after: int) -> bool:
        return any(self.last_write_to.get(p, 0) > read_after for p in primary_ids)


async def identify_at_once(
    session: AsyncSession,
    requests: Sequence[IdentifyRequest],
    *,
    rules: LinkRules,
    outbox: bool,
    ids: IdSequence,
    server_timeout: float,
) -> list[IdentifyRecord | None]:
    """The batch statement alone, as an auto-commit transaction: one round trip, and Neo4j
    commits as the statement ends, with no wait on this process in between (the id sequence's
    lock, taken last, is held for no more than that). Each row it decided gets its record; a row
    it left to follow-up statements (a merge, a primary demoted meanwhile) gets None, wrote
    nothing, and must run again in a transaction of its own (identify_batch_transaction). For
    requests without idempotency keys: a key's claim and answer take statements of their own.

    The records are trusted only once the commit has succeeded (`consume`): Neo4j sends them
    before it commits."""
    batch = _batch_params(requests, rules, outbox, ids)
    result = await session.run(Query(cypher.IDENTIFY_BATCH, timeout=server_timeout), batch=batch)
    seen = await _every_row_seen(result, len(requests))
    await result.consume()
    return [_decided_record(row_seen) for row_seen in seen]


def _batch_params(
    rows: Sequence[IdentifyRequest], rules: LinkRules, outbox: bool, ids: IdSequence
) -> dict[str, Any]:
    return batch_params(
        rows, max_per_identifier=rules.max_contacts_per_identifier, outbox=outbox, ids=ids
    )


async def _every_row_seen(result: AsyncResult, rows: int) -> list[_Seen]:
    """The batch statement's record of each row, in row order."""
    seen = sorted([_seen(record) async for record in result], key=lambda s: s.index)
    if [s.index for s in seen] != list(range(rows)):
        raise LookupError("the batch statement did not answer every row")
    return seen


def _decided_record(seen: _Seen) -> IdentifyRecord | None:
    """The answer of a row the batch statement decided on its own; None for the others."""
    if seen.cluster is None:
        return None
    outcome = seen.created or IdentifyOutcome.NOTHING_NEW
    return IdentifyRecord(seen.cluster, outcome, _hub_warnings(seen))


async def identify_batch_transaction(
    tx: Tx,
    rows: Sequence[IdentifyRequest],
    *,
    rules: LinkRules | None = None,
    key_hours: int = DEFAULT_HOURS,
    outbox: bool = False,
    ids: IdSequence = CONTACT_IDS,
) -> list[IdentifyRecord | IdempotencyKeyReused | IdempotencyKeysExhausted]:
    """The identify transaction of a batch; the driver may run it again on a deadlock, so it only
    touches tx.

    Rows with an idempotency key claim it first (graphdb.idempotency): one answered before is
    answered again (or refused, for another body) and takes no further part; the others' answers
    are stored under their keys before the transaction ends, for `key_hours`.
    """
    claims = {
        index: row.idempotency for index, row in enumerate(rows) if row.idempotency is not None
    }
    stored = await claim_keys(tx, claims) if claims else {}
    answers: dict[int, IdentifyRecord | IdempotencyKeyReused | IdempotencyKeysExhausted] = {
        index: replay(claims[index], key) for index, key in stored.items()
    }
    refused = [i for i, claim in claims.items() if i not in answers and not claim.new_allowed]
    if refused:
        await forget_claims(tx, [claims[index] for index in refused])
        answers.update(
            {index: IdempotencyKeysExhausted(IdempotencyKeysExhausted.answer) for index in refused}
        )
    running = [index for index in range(len(rows)) if index not in answers]
    if running:
        try:
            records = await _identify_rows(
                tx, [rows[index] for index in running], rules or LinkRules(), outbox, ids
            )
        except RowFailed as failed:
            raise RowFailed(running[failed.index], failed.error) from failed.error
        answers.update(zip(running, records, strict=True))
        to_store = [
            (claims[index], record)
            for index, record in zip(running, records, strict=True)
            if index in claims
        ]
        if to_store:
            await store_answers(tx, to_store, key_hours)
    return [answers[index] for index in range(len(rows))]


async def _identify_rows(
    tx: Tx, rows: Sequence[IdentifyRequest], rules: LinkRules, outbox: bool, ids: IdSequence
) -> list[IdentifyRecord]:
    """The rows that do identify, as one batch.

    Locking, so that requests on the same clusters serialise and others never wait: the batch's
    Email and Phone nodes, then the primaries of their clusters (graphdb.cypher gives the global
    order). While an identifier is held nobody can attach a contact to it, so "is this value
    new?" cannot change under us; every change to a cluster is made holding its primary's lock,
    so once held the clusters are frozen. One statement decides every row touching at most one
    frozen cluster. The rest (merges, and rows whose primary was demoted while we waited) follow
    one at a time, each locking any further primary it needs: those locks can come out of the
    global order, and Neo4j then detects the cycle (DeadlockDetected) and the batch runs again.
    """
    batch = _batch_params(rows, rules, outbox, ids)
    params: list[dict[str, Any]] = batch["rows"]
    seen = await _every_row_seen(await tx.run(cypher.IDENTIFY_BATCH, batch=batch), len(rows))
    progress = _Progress(rules, outbox, ids, set(seen[0].locked_ids) if seen else set())
    answers: dict[int, _Answer] = {}
    for row_seen in seen:
        if (record := _decided_record(row_seen)) is not None:
            answers[row_seen.index] = _Answer(
                record.cluster, record.outcome, read_after=0, warnings=record.warnings
            )
    for row_seen in seen:
        if row_seen.index not in answers:
            try:
                answers[row_seen.index] = await _settle_row(
                    tx, rows[row_seen.index], params[row_seen.index], row_seen, progress
                )
            except (LookupError, ValueError) as error:
                raise RowFailed(row_seen.index, error) from error
    await _read_changed_clusters_again(tx, answers, progress.writes)
    return [
        IdentifyRecord(answers[i].cluster, answers[i].outcome, answers[i].warnings)
        for i in range(len(rows))
    ]


def _hub_warnings(seen: _Seen) -> tuple[tuple[IdentityWarning, str], ...]:
    return tuple((IdentityWarning.HUB_IDENTIFIER, field) for field in seen.hubs)


@dataclass
class _Progress:
    """What one run of the batch transaction holds so far: how its statements are parametrised,
    the primaries locked, the writes made."""

    rules: LinkRules
    outbox: bool
    ids: IdSequence
    locked: set[int]
    writes: _Writes = field(default_factory=_Writes)


async def _settle_row(
    tx: Tx, request: IdentifyRequest, row: dict[str, Any], seen: _Seen, progress: _Progress
) -> _Answer:
    """A row the batch statement left undecided, in the same transaction.

    Its primaries are read again, locking any not held yet, until every one it sees is held and
    no write of this transaction changed them since they were read; then it is decided: a new
    contact, a merge (or a merge held back, past the cluster cap), or nothing new.
    """
    locked, writes, rules = progress.locked, progress.writes, progress.rules
    read_after = 0
    while _unsettled(seen, read_after, locked, writes):
        primary_ids = sorted(seen.primaries)
        seen = await _lock_primaries_and_read(tx, progress, primary_ids, request)
        locked.update(seen.locked_ids)
        read_after = writes.count
        if seen.created is not None:
            primary = _decided(seen).primary.id
            return _Answer(
                _decided(seen), seen.created, writes.record([primary]), _hub_warnings(seen)
            )

    winner, *losers = sorted(seen.primaries.values(), key=lambda primary: primary.seniority)
    if not losers:
        return _Answer(_decided(seen), IdentifyOutcome.NOTHING_NEW, read_after, _hub_warnings(seen))
    loser_ids = [loser.id for loser in losers]
    cluster = await merge_clusters(
        tx,
        winner.id,
        loser_ids,
        rules.relink_chunk,
        _merge_cause(row, seen, loser_ids, progress.outbox),
        cap=rules.max_cluster_contacts,
    )
    if cluster is None:
        return await _hold_back(tx, row, seen, writes.count)
    return _Answer(
        cluster,
        IdentifyOutcome.MERGED,
        writes.record([winner.id, *loser_ids]),
        _hub_warnings(seen),
    )


def _merge_cause(
    row: dict[str, Any], seen: _Seen, loser_ids: list[int], outbox: bool
) -> MergeCause:
    """The request's email found one cluster, its phone another: the value that brought the
    losing cluster in is the bridge; both values are the merge's evidence."""
    by_phone = seen.via_phone is not None and seen.via_phone.id in loser_ids
    return MergeCause(
        bridge=BridgeKind.PHONE if by_phone else BridgeKind.EMAIL,
        bridge_token=row["phoneToken"] if by_phone else row["emailToken"],
        request_id=row["requestId"],
        email=row["email"],
        phone=row["phone"],
        outbox=outbox,
    )


async def cluster_size(tx: Tx, primary_ids: list[int]) -> int:
    """The contacts of these clusters together."""
    result = await tx.run(cypher.CLUSTER_SIZES, sizes={"primaryIds": primary_ids})
    record = await result.single(strict=True)
    return int(record["contacts"])


async def merge_clusters(
    tx: Tx,
    winner_id: int,
    loser_ids: list[int],
    chunk: int,
    cause: MergeCause,
    *,
    cap: int = MOST,
) -> ClusterRecord | None:
    """The losers' secondaries, then the losers, link straight to the winner; every primary
    must be locked. None, and nothing changed, when together they would pass `cap` contacts.
    Relinked in chunks, so no statement holds a whole large cluster; conflicts held back
    between them are settled; the ledger records a MERGED event per loser, for `cause`."""
    for loser_id in loser_ids:
        relink = {
            "winnerId": winner_id,
            "loserId": loser_id,
            "chunk": chunk,
            "cap": cap,
            "sizeOf": [winner_id, *loser_ids],
        }
        while True:
            result = await tx.run(cypher.RELINK_SECONDARIES, relink=relink)
            record = await result.single(strict=True)
            if record["contacts"] > relink["cap"]:
                return None  # checked before anything moved: the first statement of the merge
            if record["moved"] < chunk:
                break
            relink["cap"] = MOST
        cap = MOST
    merge = {
        "winnerId": winner_id,
        "loserIds": loser_ids,
        "conflictKeys": [conflict_key(winner_id, loser_id) for loser_id in loser_ids],
        "cause": cause.params(),
    }
    record = await (await tx.run(cypher.DEMOTE_AND_READ, merge=merge)).single(strict=True)
    cluster = _cluster(record)
    if cluster is None:
        raise LookupError("the merge returned no cluster")
    return cluster


def conflict_key(one: int, other: int) -> str:
    """The conflicts between two clusters are one record, named by their primaries' ids."""
    return f"{min(one, other)}:{max(one, other)}"


async def _hold_back(tx: Tx, row: dict[str, Any], seen: _Seen, writes_so_far: int) -> _Answer:
    """Nothing merges; the conflict is recorded, and the answer is the email's cluster (a row
    bridges two clusters only through both its email and its phone)."""
    if seen.via_email is None or seen.via_phone is None:
        raise LookupError("a held-back merge needs a cluster by email and one by phone")
    email_side, phone_side = seen.via_email.id, seen.via_phone.id
    conflict = {
        "key": conflict_key(email_side, phone_side),
        "emailSideId": email_side,
        "phoneSideId": phone_side,
        "email": row["email"],
        "phone": row["phone"],
        "requestId": row["requestId"],
    }
    result = await tx.run(cypher.HOLD_BACK_AND_READ, conflict=conflict)
    cluster = _cluster(await result.single(strict=True))
    if cluster is None:
        raise LookupError("the held-back merge read no cluster")
    warnings = (*_hub_warnings(seen), (IdentityWarning.MERGE_HELD_BACK, "phoneNumber"))
    return _Answer(cluster, IdentifyOutcome.MERGE_HELD_BACK, writes_so_far, warnings)


def _unsettled(seen: _Seen, read_after: int, locked: set[int], writes: _Writes) -> bool:
    if not seen.held or not seen.primaries.keys() <= locked:
        return True  # a primary found before its lock was taken: demoted meanwhile
    if writes.changed_since(list(seen.primaries), read_after):
        return True  # an earlier row of this batch merged or grew one of its clusters
    # One cluster, held, but its primary was locked for another row: read it again, now held.
    return len(seen.primaries) < 2 and seen.cluster is None


async def _lock_primaries_and_read(
    tx: Tx, progress: _Progress, primary_ids: list[int], request: IdentifyRequest
) -> _Seen:
    # The row alone is the batch: its values were locked by the batch statement already.
    one_row = {
        **_batch_params([request], progress.rules, progress.outbox, progress.ids),
        "primaryIds": primary_ids,
    }
    result = await tx.run(cypher.LOCK_PRIMARIES_AND_READ, batch=one_row)
    return _seen(await result.single(strict=True))


async def _read_changed_clusters_again(
    tx: Tx, answers: dict[int, _Answer], writes: _Writes
) -> None:
    stale = {
        index: answer.cluster.primary.id
        for index, answer in answers.items()
        if writes.changed_since([answer.cluster.primary.id], answer.read_after)
    }
    if not stale:
        return
    clusters = await read_clusters_of_contacts(tx, sorted(set(stale.values())))
    for index, contact_id in stale.items():
        answer = answers[index]
        answers[index] = _Answer(
            clusters[contact_id], answer.outcome, writes.count, answer.warnings
        )


async def read_clusters_of_contacts(tx: Tx, contact_ids: list[int]) -> dict[int, ClusterRecord]:
    """The cluster of each contact, by its id; read inside a transaction that holds the locks."""
    result = await tx.run(cypher.READ_CLUSTERS_OF_CONTACTS, read={"ids": contact_ids})
    clusters: dict[int, ClusterRecord] = {}
    async for record in result:
        cluster = _cluster(record)
        if cluster is not None:
            clusters[record["contactId"]] = cluster
    return clusters


def _decided(seen: _Seen) -> ClusterRecord:
    # The locking statement reads the cluster whenever it decided the row on its own.
    if seen.cluster is None:
        raise LookupError("the locking statement decided but returned no cluster")
    return seen.cluster


def _seen(record: Record) -> _Seen:
    return _Seen(
        record["index"],
        tuple(record["lockedPrimaryIds"]),
        _primary(record["viaEmail"]),
        _primary(record["viaPhone"]),
        _cluster(record),
        _creation(record["created"]),
        tuple(
            field
            for field, hub in (("email", record["emailHub"]), ("phoneNumber", record["phoneHub"]))
            if hub
        ),
        record["held"],
    )


def _creation(created: dict[str, Any] | None) -> IdentifyOutcome | None:
    if created is None:
        return None
    if created["linkPrecedence"] == "primary":
        return IdentifyOutcome.CREATED_PRIMARY
    return IdentifyOutcome.ADDED_SECONDARY


def _primary(value: dict[str, Any] | None) -> _Primary | None:
    return None if value is None else _Primary(value["id"], value["createdAt"])


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


async def read_contacts_transaction(
    tx: AsyncManagedTransaction, contact_ids: list[int]
) -> list[ContactRecord]:
    result = await tx.run(cypher.READ_CONTACTS, page={"ids": contact_ids})
    found = {}
    async for record in result:
        node = record["contact"]
        found[node["id"]] = ContactRecord.from_node(node, linked_id=node["linkedId"])
    return [found[contact_id] for contact_id in contact_ids if contact_id in found]


def _cluster(record: Record) -> ClusterRecord | None:
    if record["primary"] is None:
        return None
    primary = ContactRecord.from_node(record["primary"], linked_id=None)
    secondaries = tuple(
        MemberRecord(member_id, email, phone) for member_id, email, phone in record["secondaries"]
    )
    return ClusterRecord(primary, secondaries)
