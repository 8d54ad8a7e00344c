"""Reads the whole graph and reports every violation of the cluster invariants (offline checks)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any, LiteralString

from neo4j import AsyncDriver

from graphdb.components import Components, Evidence, contact_node, evidence_components

READ_ALL_CONTACTS: LiteralString = """
MATCH (contact:Contact)
WHERE contact.deletedAt IS NULL
RETURN contact.id AS id,
       contact.email AS email,
       contact.phoneNumber AS phone,
       contact.emailUnlinked AS emailUnlinked,
       contact.phoneNumberUnlinked AS phoneUnlinked,
       contact.recanonicalizedAt IS NOT NULL OR contact.valueErasedAt IS NOT NULL AS rewritten,
       contact.linkPrecedence AS precedence,
       contact.createdAt AS createdAt,
       COLLECT { MATCH (contact)-[:LINKED_TO]->(linked) RETURN linked.id } AS links,
       COLLECT { MATCH (contact)-[:HAS_EMAIL]->(e:Email) RETURN e.value } AS emailNodes,
       COLLECT { MATCH (contact)-[:HAS_PHONE]->(p:Phone) RETURN p.value } AS phoneNodes,
       NOT EXISTS { (contact)<-[:ABOUT]-(:Event {kind: 'CREATED'}) }
         AND NOT EXISTS { (contact)<-[:ABOUT]-(:Event {kind: 'LINKED'}) } AS beforeLedger
ORDER BY id
"""

# What each merge stands on (graphdb.ledger): values as "email:<value>" and "phone:<value>",
# live contacts as "contact:<id>".
READ_MERGE_EVIDENCE: LiteralString = """
MATCH (event:Event {kind: 'MERGED'})
RETURN COLLECT {
  MATCH (event)-[:EVIDENCE]->(node)
  WITH CASE WHEN node:Email THEN 'email:' + node.value
            WHEN node:Phone THEN 'phone:' + node.value
            WHEN node.deletedAt IS NULL THEN 'contact:' + toString(node.id)
       END AS key
  WHERE key IS NOT NULL
  RETURN key
} AS evidence
"""

# Values flagged as hubs, and the conflicts recorded for held-back merges.
READ_HUBS_AND_CONFLICTS: LiteralString = """
RETURN COLLECT { MATCH (e:Email) WHERE e.hub RETURN e.value } AS emailHubs,
       COLLECT { MATCH (p:Phone) WHERE p.hub RETURN p.value } AS phoneHubs,
       COLLECT {
         MATCH (c:Conflict)
         RETURN [c.key, c.emailSideId, c.phoneSideId, c.email, c.phoneNumber]
       } AS conflicts
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
    # Why a value links nobody: "blocked" or "hub"; None when it links.
    email_unlinked: str | None = None
    phone_unlinked: str | None = None
    # Moved to a value's new form by `identity recanonicalize`, or stripped of a value by an
    # erasure: two sightings that were two spellings, or differed only by the erased value, may
    # now be one pair, legitimately.
    rewritten: bool = False
    # No CREATED or LINKED event is about it: made before the ledger, its link is its only
    # evidence.
    before_ledger: bool = False

    @property
    def linking_values(self) -> list[tuple[str, str]]:
        """The values this contact links through: its Email and Phone nodes."""
        return [("email", v) for v in self.email_nodes] + [("phone", v) for v in self.phone_nodes]


@dataclass(frozen=True)
class Conflict:
    key: str
    email_side: int
    phone_side: int
    email: str
    phone: str


@dataclass(frozen=True)
class GraphState:
    contacts: list[GraphContact]
    hubs: frozenset[tuple[str, str]] = frozenset()
    conflicts: tuple[Conflict, ...] = ()
    # Per MERGED event, the evidence it stands on; None: not read (evidence not checked).
    merges: tuple[tuple[str, ...], ...] | None = None


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
            email_unlinked=r["emailUnlinked"],
            phone_unlinked=r["phoneUnlinked"],
            rewritten=r["rewritten"],
            before_ledger=r["beforeLedger"],
        )
        for r in records
    ]


async def read_state(driver: AsyncDriver, database: str) -> GraphState:
    contacts = await read_contacts(driver, database)
    records, _, _ = await driver.execute_query(READ_HUBS_AND_CONFLICTS, database_=database)
    record = records[0]
    hubs = {("email", v) for v in record["emailHubs"]} | {("phone", v) for v in record["phoneHubs"]}
    conflicts = tuple(Conflict(*row) for row in record["conflicts"])
    evidence, _, _ = await driver.execute_query(READ_MERGE_EVIDENCE, database_=database)
    merges = tuple(tuple(row["evidence"]) for row in evidence)
    return GraphState(contacts, frozenset(hubs), conflicts, merges)


def _components(contacts: list[GraphContact]) -> list[set[int]]:
    """Connected components of the graph: shared Email and Phone nodes, and LINKED_TO
    (union-find). A blocked value, or a hub past its cap, has no edge from the contacts it does
    not link, so it joins nobody.

    LINKED_TO counts because a merge request is evidence too: "george + biff's phone" joins
    two clusters without creating a contact when it brings nothing new (docs/rules.md, rule 4).
    """
    linked: Components[int] = Components()
    first_holder: dict[tuple[str, str], int] = {}
    ids = {c.id for c in contacts}
    for contact in contacts:
        linked.root(contact.id)
        for key in contact.linking_values:
            linked.join([contact.id, first_holder.setdefault(key, contact.id)])
        linked.join([contact.id, *(target for target in contact.links if target in ids)])
    groups: dict[int, set[int]] = defaultdict(set)
    for contact in contacts:
        groups[linked.root(contact.id)].add(contact.id)
    return list(groups.values())


def _evidence_violations(
    contacts: list[GraphContact], merges: tuple[tuple[str, ...], ...]
) -> list[str]:
    """A link stands only while its evidence does (graphdb.erasure): every cluster must be
    exactly one connected component of the evidence, shared values and standing merges (a merge
    stands on all of its evidence, at least two nodes, or on nothing)."""
    live = {contact_node(c.id) for c in contacts}
    evidence = evidence_components(
        (
            Evidence(
                c.id,
                tuple(f"{kind}:{value}" for kind, value in c.linking_values),
                c.links[0] if c.before_ledger and c.links else None,
            )
            for c in contacts
        ),
        merges,
        # A merge naming a contact that is gone (erased) stands no more.
        fallen=lambda node: node.startswith("contact:") and node not in live,
    )
    clusters: dict[int, set[str]] = defaultdict(set)
    parts: dict[str, set[int]] = defaultdict(set)
    for contact in contacts:
        primary = contact.links[0] if contact.links else contact.id
        part = evidence.root(contact_node(contact.id))
        clusters[primary].add(part)
        parts[part].add(primary)
    found = [
        f"cluster of {primary} rests on {len(roots)} separate pieces of evidence"
        for primary, roots in sorted(clusters.items())
        if len(roots) > 1
    ]
    found += [
        f"clusters {sorted(primaries)} are joined by evidence but apart"
        for primaries in parts.values()
        if len(primaries) > 1
    ]
    return found


def find_violations(
    contacts: list[GraphContact],
    hubs: frozenset[tuple[str, str]] = frozenset(),
    conflicts: tuple[Conflict, ...] = (),
    merges: tuple[tuple[str, ...], ...] | None = None,
) -> list[str]:
    by_id = {c.id: c for c in contacts}
    violations: list[str] = []
    for contact in contacts:
        violations.extend(_contact_violations(contact, by_id, hubs))
    seen_pairs: dict[tuple[str | None, str | None], int] = {}
    for c in contacts:
        if _links_nothing(c):
            continue  # blocked or hub values only: each such sighting is a cluster of its own
        twin = seen_pairs.setdefault((c.email, c.phone), c.id)
        if twin != c.id and not (c.rewritten or by_id[twin].rewritten):
            violations.append(f"contacts {twin} and {c.id} duplicate ({c.email}, {c.phone})")
    components = _components(contacts)
    for component in components:
        violations.extend(_cluster_violations(sorted(component), by_id))
    violations.extend(_conflict_violations(contacts, components, conflicts))
    if merges is not None:
        violations.extend(_evidence_violations(contacts, merges))
    return violations


def _links_nothing(contact: GraphContact) -> bool:
    """Every value it carries is recorded as linking nobody (blocked, or a hub)."""
    return (contact.email is None or contact.email_unlinked is not None) and (
        contact.phone is None or contact.phone_unlinked is not None
    )


def _conflict_violations(
    contacts: list[GraphContact], components: list[set[int]], conflicts: tuple[Conflict, ...]
) -> list[str]:
    """A conflict names two clusters its request bridged: the email's and the phone's. Once they
    are one cluster it is settled (listed no more); until then each side still holds its value."""
    cluster_of = {member: index for index, members in enumerate(components) for member in members}
    holders: dict[tuple[str, str], set[int]] = {}
    for contact in contacts:
        for key in contact.linking_values:
            holders.setdefault(key, set()).add(cluster_of[contact.id])
    found = []
    for conflict in conflicts:
        sides = (conflict.email_side, conflict.phone_side)
        if any(side not in cluster_of for side in sides):
            found.append(f"conflict {conflict.key} names a contact that does not exist")
            continue
        email_side, phone_side = (cluster_of[side] for side in sides)
        if email_side == phone_side:
            continue
        if email_side not in holders.get(("email", conflict.email), set()):
            found.append(f"conflict {conflict.key}: its email is not in its email side's cluster")
        if phone_side not in holders.get(("phone", conflict.phone), set()):
            found.append(f"conflict {conflict.key}: its phone is not in its phone side's cluster")
    return found


def _contact_violations(
    c: GraphContact, by_id: dict[int, GraphContact], hubs: frozenset[tuple[str, str]]
) -> list[str]:
    found = []
    values = (
        ("email", c.email, c.email_unlinked, c.email_nodes, "HAS_EMAIL"),
        ("phone", c.phone, c.phone_unlinked, c.phone_nodes, "HAS_PHONE"),
    )
    for kind, value, unlinked, nodes, edge in values:
        linked = value is not None and unlinked is None
        if list(nodes) != ([value] if linked else []):
            found.append(f"contact {c.id}: {kind} {value!r} but {edge} {list(nodes)}")
        if unlinked == "hub" and (kind, value) not in hubs:
            found.append(f"contact {c.id}: {kind} {value!r} unlinked as a hub, which it is not")
        if unlinked not in (None, "hub", "blocked"):
            found.append(f"contact {c.id}: {kind} unlinked for an unknown reason {unlinked!r}")
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
    state = await read_state(driver, database)
    return find_violations(state.contacts, state.hubs, state.conflicts, state.merges)
