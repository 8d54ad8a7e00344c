"""Why two contacts are linked: the shortest chain of evidence between them, each link with the
ledger event that made it (graphdb.cypher.ledger EXPLAIN_LINK)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from neo4j import AsyncManagedTransaction

from graphdb import cypher
from graphdb.ledger import EventRecord


@dataclass(frozen=True)
class ChainNode:
    """A contact, or a value (one of email and phone)."""

    contact_id: int | None = None
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class ChainLink:
    """Two neighbours of the chain, and the event that joined them: a contact carrying a value
    (its CREATED or LINKED event), or a merge (its MERGED event). None for a link the ledger
    never recorded: data older than the ledger."""

    source: ChainNode
    target: ChainNode
    event: EventRecord | None


@dataclass(frozen=True)
class Explanation:
    connected: bool
    path: tuple[ChainLink, ...]


class ContactNotFound(LookupError):
    pass


async def explain_link(tx: AsyncManagedTransaction, a: int, b: int) -> Explanation:
    """Whether contacts a and b are in one cluster now, and the shortest chain joining them."""
    record = await (await tx.run(cypher.EXPLAIN_LINK, explain={"a": a, "b": b})).single(strict=True)
    if not record["found"]:
        raise ContactNotFound("No contact has that id.")
    connected = record["primaryOfA"] == record["primaryOfB"]
    path = _links(record["steps"])
    if connected and not path and a != b:
        # One cluster, but no chain of evidence: a merge from before the ledger. The cluster's
        # links to its primary are all there is to show.
        primary = ChainNode(contact_id=record["primaryOfA"])
        ends = [ChainNode(contact_id=a), primary, ChainNode(contact_id=b)]
        hops = [(x, y) for x, y in itertools.pairwise(ends) if x != y]
        path = tuple(ChainLink(x, y, None) for x, y in hops)
    return Explanation(connected, path)


def _links(steps: list[dict[str, Any]]) -> tuple[ChainLink, ...]:
    links: list[ChainLink] = []
    previous: tuple[ChainNode, EventRecord | None] | None = None
    merge: EventRecord | None = None
    for step in steps:
        if "event" in step:
            merge = EventRecord.from_map(step["event"])
            continue
        node, made = _node(step)
        if previous is not None:
            # A merge between them made the link; else the contact's own making did.
            event = merge or made or previous[1]
            links.append(ChainLink(previous[0], node, event))
        previous, merge = (node, made), None
    return tuple(links)


def _node(step: dict[str, Any]) -> tuple[ChainNode, EventRecord | None]:
    if "contactId" in step:
        made = step.get("made")
        return ChainNode(contact_id=step["contactId"]), (
            None if made is None else EventRecord.from_map(made)
        )
    return ChainNode(email=step.get("email"), phone=step.get("phone")), None
