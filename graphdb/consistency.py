"""Reads the whole graph and reports every violation of the cluster invariants (offline checks)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any, LiteralString

from neo4j import AsyncDriver

READ_ALL_CONTACTS: LiteralString = """
MATCH (contact:Contact)
WHERE contact.deletedAt IS NULL
RETURN contact.id AS id,
       contact.email AS email,
       contact.phoneNumber AS phone,
       contact.linkPrecedence AS precedence,
       contact.createdAt AS createdAt,
       COLLECT { MATCH (contact)-[:LINKED_TO]->(linked) RETURN linked.id } AS links,
       COLLECT { MATCH (contact)-[:HAS_EMAIL]->(e:Email) RETURN e.value } AS emailNodes,
       COLLECT { MATCH (contact)-[:HAS_PHONE]->(p:Phone) RETURN p.value } AS phoneNodes
ORDER BY id
"""


@dataclass(frozen=True)
class GraphContact:
    id: int
    email: str | None
    phone: str | None
    precedence: str
    created_at: Any
    links: tuple[int, ...]
    email_nodes: tuple[str, ...]
    phone_nodes: tuple[str, ...]


async def read_contacts(driver: AsyncDriver, database: str) -> list[GraphContact]:
    records, _, _ = await driver.execute_query(READ_ALL_CONTACTS, database_=database)
    return [
        GraphContact(
            id=r["id"],
            email=r["email"],
            phone=r["phone"],
            precedence=r["precedence"],
            created_at=r["createdAt"],
            links=tuple(r["links"]),
            email_nodes=tuple(r["emailNodes"]),
            phone_nodes=tuple(r["phoneNodes"]),
        )
        for r in records
    ]


def _components(contacts: list[GraphContact]) -> list[set[int]]:
    """Connected components of the graph: shared emails and phones, and LINKED_TO (union-find).

    LINKED_TO counts because a merge request is evidence too: "george + biff's phone" joins
    two clusters without creating a contact when it brings nothing new (docs/rules.md, rule 4).
    """
    parent = {c.id: c.id for c in contacts}

    def root(node: int) -> int:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    first_holder: dict[tuple[str, str], int] = {}
    for contact in contacts:
        for key in (("email", contact.email), ("phone", contact.phone)):
            if key[1] is None:
                continue
            holder = first_holder.setdefault((key[0], key[1]), contact.id)
            parent[root(contact.id)] = root(holder)
        for linked in contact.links:
            if linked in parent:
                parent[root(contact.id)] = root(linked)
    groups: dict[int, set[int]] = defaultdict(set)
    for contact in contacts:
        groups[root(contact.id)].add(contact.id)
    return list(groups.values())


def find_violations(contacts: list[GraphContact]) -> list[str]:
    by_id = {c.id: c for c in contacts}
    violations: list[str] = []
    for contact in contacts:
        violations.extend(_contact_violations(contact, by_id))
    seen_pairs: dict[tuple[str | None, str | None], int] = {}
    for c in contacts:
        if (twin := seen_pairs.setdefault((c.email, c.phone), c.id)) != c.id:
            violations.append(f"contacts {twin} and {c.id} duplicate ({c.email}, {c.phone})")
    for component in _components(contacts):
        violations.extend(_cluster_violations(sorted(component), by_id))
    return violations


def _contact_violations(c: GraphContact, by_id: dict[int, GraphContact]) -> list[str]:
    found = []
    if list(c.email_nodes) != ([] if c.email is None else [c.email]):
        found.append(f"contact {c.id}: email {c.email!r} but HAS_EMAIL {list(c.email_nodes)}")
    if list(c.phone_nodes) != ([] if c.phone is None else [c.phone]):
        found.append(f"contact {c.id}: phone {c.phone!r} but HAS_PHONE {list(c.phone_nodes)}")
    if c.precedence == "primary" and c.links:
        found.append(f"primary {c.id} links to {list(c.links)}")
    if c.precedence == "secondary":
        if len(c.links) != 1:
            found.append(f"secondary {c.id} has {len(c.links)} LINKED_TO, not 1")
        elif (target := by_id.get(c.links[0])) is None or target.precedence != "primary":
            found.append(f"secondary {c.id} links to {c.links[0]}, which is no primary")
    return found


def _cluster_violations(members: list[int], by_id: dict[int, GraphContact]) -> list[str]:
    primaries = [i for i in members if by_id[i].precedence == "primary"]
    if len(primaries) != 1:
        return [f"cluster {members} has {len(primaries)} primaries"]
    primary = primaries[0]
    found = []
    oldest = min(members, key=lambda i: (by_id[i].created_at, i))
    if oldest != primary:
        found.append(f"cluster {members}: primary {primary} is not the oldest ({oldest})")
    astray = [i for i in members if i != primary and by_id[i].links[:1] != (primary,)]
    if astray:
        found.append(f"cluster {members}: {astray} not linked to {primary}")
    return found


async def check_graph(driver: AsyncDriver, database: str) -> list[str]:
    return find_violations(await read_contacts(driver, database))
