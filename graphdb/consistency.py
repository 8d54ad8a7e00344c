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
            r["id"], r["email"], r["phone"], r["precedence"], r["createdAt"],
            tuple(r["links"]), tuple(r["emailNodes"]), tuple(r["phoneNodes"]),
        )  # fmt: skip
        for r in records
    ]


def _components(contacts: list[GraphContact]) -> list[set[int]]:
    """Connected components of contacts through shared email and phone values (union-find)."""
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
    groups: dict[int, set[int]] = defaultdict(set)
    for contact in contacts:
        groups[root(contact.id)].add(contact.id)
    return list(groups.values())


def find_violations(contacts: list[GraphContact]) -> list[str]:
    by_id = {c.id: c for c in contacts}
    violations: list[str] = []
    for c in contacts:
        if [c.email] != list(c.email_nodes) and not (c.email is None and not c.email_nodes):
            violations.append(f"contact {c.id}: email {c.email!r} but HAS_EMAIL {c.email_nodes}")
        if [c.phone] != list(c.phone_nodes) and not (c.phone is None and not c.phone_nodes):
            violations.append(f"contact {c.id}: phone {c.phone!r} but HAS_PHONE {c.phone_nodes}")
        if c.precedence == "primary" and c.links:
            violations.append(f"primary {c.id} links to {list(c.links)}")
        if c.precedence == "secondary":
            if len(c.links) != 1:
                violations.append(f"secondary {c.id} has {len(c.links)} LINKED_TO, not 1")
            elif (target := by_id.get(c.links[0])) is None or target.precedence != "primary":
                violations.append(f"secondary {c.id} links to {c.links[0]}, which is no primary")
    seen_pairs: dict[tuple[str | None, str | None], int] = {}
    for c in contacts:
        if (twin := seen_pairs.setdefault((c.email, c.phone), c.id)) != c.id:
            violations.append(f"contacts {twin} and {c.id} duplicate ({c.email}, {c.phone})")
    for component in _components(contacts):
        members = sorted(component)
        primaries = [i for i in members if by_id[i].precedence == "primary"]
        if len(primaries) != 1:
            violations.append(f"cluster {members} has {len(primaries)} primaries")
            continue
        primary = by_id[primaries[0]]
        oldest = min(members, key=lambda i: (by_id[i].created_at, i))
        if oldest != primary.id:
            violations.append(f"cluster {members}: primary {primary.id} is not the oldest ({oldest})")
        linked_elsewhere = [
            i for i in members if i != primary.id and by_id[i].links[:1] != (primary.id,)
        ]
        if linked_elsewhere:
            violations.append(f"cluster {members}: {linked_elsewhere} not linked to {primary.id}")
        outsiders = sorted(
            c.id for c in contacts if c.links[:1] == (primary.id,) and c.id not in component
        )
        if outsiders:
            violations.append(f"contacts {outsiders} link to {primary.id} but share nothing")
    return violations


async def check_graph(driver: AsyncDriver, database: str) -> list[str]:
    return find_violations(await read_contacts(driver, database))
