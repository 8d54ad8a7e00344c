"""Erasure: values removed from every contact and node, and the clusters they were in
recomputed from the evidence that remains.

A link stands only while its evidence does. Two contacts sharing a value are linked by it; a
merge by the email and phone of the request that made it (its EVIDENCE edges, graphdb.ledger),
or by the two contacts an operator named. Erasing a value deletes its node, and with it every
edge to it: the clusters that held it are recomputed as the connected components of what is
left, each with its oldest contact as primary, every secondary linked straight to it.

One transaction: the values' nodes locked (identify's order), then the primaries of the
clusters that carry them, so that nothing changes those clusters meanwhile. A dry run does the
same and is rolled back (the caller's), so it answers exactly what the erasure would.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from graphdb import cypher
from graphdb.components import Evidence, contact_node, evidence_components
from graphdb.conflicts import lock_primaries
from graphdb.driver import Tx
from graphdb.identify_tx import read_clusters_of_contacts
from graphdb.records import ClusterRecord

ValueToken = Callable[[str, str | None], str | None]


@dataclass(frozen=True)
class ErasedValue:
    kind: str  # "email" or "phone"
    value: str
    # Its keyed hash, for the answer: the ledger keeps nothing of an erased value.
    token: str | None


@dataclass(frozen=True)
class Erasure:
    """What to erase: values, or a contact whole (its own values everywhere, and itself)."""

    values: tuple[ErasedValue, ...] = ()
    contact_id: int | None = None
    request_id: str | None = None
    # Whether its events go out to the webhooks (graphdb.outbox).
    outbox: bool = False


@dataclass
class ErasureResult:
    # The values found on some contact, and the contacts that carried them.
    erased: list[ErasedValue] = field(default_factory=list)
    contact_ids: list[int] = field(default_factory=list)
    # The clusters the erasure left, by primary id.
    clusters: list[ClusterRecord] = field(default_factory=list)


@dataclass(frozen=True)
class _Member:
    id: int
    created_at: int
    old_primary: int
    evidence: tuple[str, ...]
    merges: tuple[tuple[str, ...], ...]
    before_ledger: bool


class ContactGone(LookupError):
    """eraseContact named no live contact."""


async def erase(tx: Tx, erasure: Erasure, token: ValueToken) -> ErasureResult:
    """Erases, recomputes, and answers with the clusters left. `token` gives a value's keyed
    hash, for a contact's values (read here, under no lock yet: the contact's values never
    change, only its cluster)."""
    if erasure.contact_id is not None:
        read = await tx.run(cypher.READ_CONTACTS, page={"ids": [erasure.contact_id]})
        record = await read.single(strict=False)
        if record is None:
            raise ContactGone("No contact has that id.")
        own = [("email", record["contact"]["email"]), ("phone", record["contact"]["phoneNumber"])]
        values = tuple(
            ErasedValue(kind, value, token(kind, value)) for kind, value in own if value is not None
        )
        erasure = dataclasses.replace(erasure, values=erasure.values + values)
    emails = sorted({v.value for v in erasure.values if v.kind == "email"})
    phones = sorted({v.value for v in erasure.values if v.kind == "phone"})
    found = await tx.run(
        cypher.LOCK_VALUES_AND_FIND_CARRIERS, erase={"emails": emails, "phones": phones}
    )
    carriers: dict[tuple[str, str], set[int]] = defaultdict(set)
    for row in (await found.single(strict=True))["carriers"]:
        carriers[(row["kind"], row["value"])].add(row["carrierId"])
    # The erased contact is touched even if it carries nothing any more.
    whole = set() if erasure.contact_id is None else {erasure.contact_id}
    touched = sorted(whole.union(*carriers.values()))
    result = ErasureResult(
        erased=[v for v in erasure.values if carriers.get((v.kind, v.value))],
        contact_ids=touched,
    )
    if not touched:
        return result
    primaries = await lock_primaries(tx, touched)
    old_primaries = sorted({primary for _, primary in primaries.values()})
    members = await _read_evidence(tx, old_primaries)
    gone = {f"{kind}:{value}" for kind, value in carriers}
    alive = [m for m in members if m.id != erasure.contact_id]
    # The erased contact's merges may join the others still (on values they carry).
    merges = {merge for member in members for merge in member.merges}
    components = _components(alive, merges, gone, erasure.contact_id)
    await tx.run(
        cypher.ERASE_VALUES,
        apply={
            "values": [
                {
                    "kind": v.kind,
                    "value": v.value,
                    "carrierIds": sorted(carriers[(v.kind, v.value)]),
                    # The cluster it was erased from, and the one its carriers are in after,
                    # when they are one (subscribers follow a cluster by its primaries).
                    **_primaries(carriers[(v.kind, v.value)], primaries, components),
                }
                for v in result.erased
            ],
            "memberIds": [m.id for m in members],
            "contactId": erasure.contact_id,
            "requestId": erasure.request_id,
            "outbox": erasure.outbox,
        },
    )
    moves, splits = _relinks(components)
    await tx.run(
        cypher.RELINK_AND_RECORD_SPLITS,
        relink={
            "moves": moves,
            "splits": splits,
            "requestId": erasure.request_id,
            "outbox": erasure.outbox,
        },
    )
    await tx.run(cypher.RESIDE_CONFLICTS, reside={"memberIds": [m.id for m in members]})
    new_primaries = sorted({primary for primary, _ in components})
    clusters = await read_clusters_of_contacts(tx, new_primaries)
    result.clusters = [clusters[primary] for primary in new_primaries if primary in clusters]
    return result


def _primaries(
    carriers: set[int],
    before: dict[int, tuple[int, int]],
    components: list[tuple[int, list[_Member]]],
) -> dict[str, int | None]:
    after = {member.id: primary for primary, group in components for member in group}
    olds = {before[c][1] for c in carriers if c in before}
    news = {after[c] for c in carriers if c in after}
    return {
        "primaryBefore": olds.pop() if len(olds) == 1 else None,
        "primaryAfter": news.pop() if len(news) == 1 else None,
    }


async def _read_evidence(tx: Tx, primary_ids: list[int]) -> list[_Member]:
    result = await tx.run(cypher.READ_EVIDENCE, read={"primaryIds": primary_ids})
    return [
        _Member(
            id=record["id"],
            created_at=record["createdAt"],
            old_primary=record["primaryId"],
            evidence=tuple(record["values"]),
            merges=tuple(
                tuple(sorted(n for n in merge if n is not None)) for merge in record["merges"]
            ),
            before_ledger=record["beforeLedger"],
        )
        async for record in result
    ]


def _components(
    members: list[_Member],
    merges: set[tuple[str, ...]],
    gone: set[str],
    erased_contact: int | None,
) -> list[tuple[int, list[_Member]]]:
    """The connected components of what evidence is left, each as (its oldest member's id, its
    members, oldest first)."""
    erased_node = None if erased_contact is None else contact_node(erased_contact)
    evidence = evidence_components(
        (Evidence(m.id, m.evidence, m.old_primary if m.before_ledger else None) for m in members),
        merges,
        fallen=lambda node: node in gone or node == erased_node,
    )
    groups: dict[str, list[_Member]] = defaultdict(list)
    for member in members:
        groups[evidence.root(contact_node(member.id))].append(member)
    components = []
    for group in groups.values():
        group.sort(key=lambda m: (m.created_at, m.id))
        components.append((group[0].id, group))
    return components


def _relinks(
    components: list[tuple[int, list[_Member]]],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The contacts whose primary changes, and a SPLIT event per part of a cluster that erasure
    cut in pieces or gave another primary."""
    parts_of: dict[int, int] = defaultdict(int)
    for _, group in components:
        for old in {m.old_primary for m in group}:
            parts_of[old] += 1
    moves: list[dict[str, Any]] = []
    splits: list[dict[str, Any]] = []
    for primary, group in components:
        # A contact keeps its links when its primary stays: the new primary was one already,
        # and its secondaries link to it.
        moves += [
            {"id": member.id, "primaryId": primary}
            for member in group
            if member.old_primary != primary
        ]
        for old in sorted({m.old_primary for m in group}):
            if parts_of[old] > 1 or old != primary:
                splits.append(
                    {
                        "primaryBefore": old,
                        "primaryAfter": primary,
                        "contactIds": [m.id for m in group if m.old_primary == old],
                    }
                )
    return moves, splits
