"""Connected components by union-find, and the evidence graph they are taken over: for the
checker and for erasure's recomputation (graphdb.ledger says what the evidence is)."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

Node = TypeVar("Node", bound=Hashable)


class Components(Generic[Node]):
    def __init__(self) -> None:
        self._parent: dict[Node, Node] = {}

    def root(self, node: Node) -> Node:
        parent = self._parent
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    def join(self, nodes: Iterable[Node]) -> None:
        """Puts the nodes in one component (nothing for fewer than two)."""
        first = None
        for node in nodes:
            if first is None:
                first = self.root(node)
            else:
                self._parent[self.root(node)] = first
                first = self.root(first)


def contact_node(contact_id: int) -> str:
    """A contact in the evidence graph; values are "email:<value>" and "phone:<value>"."""
    return f"contact:{contact_id}"


@dataclass(frozen=True)
class Evidence:
    """A contact's own evidence: the values it links through, and, for a contact older than the
    ledger (no CREATED or LINKED event), the contact it links to, its only evidence."""

    contact_id: int
    values: tuple[str, ...]
    linked_before_ledger: int | None = None


def evidence_components(
    contacts: Iterable[Evidence],
    merges: Iterable[tuple[str, ...]],
    fallen: Callable[[str], bool] = lambda _node: False,
) -> Components[str]:
    """The contacts joined by their values and by the merges that still stand: a merge stands on
    all of its evidence (two nodes at least) or on nothing. A `fallen` node (an erased value, an
    erased contact) joins nobody."""
    evidence: Components[str] = Components()
    for contact in contacts:
        me = contact_node(contact.contact_id)
        evidence.root(me)
        evidence.join([me, *(value for value in contact.values if not fallen(value))])
        if contact.linked_before_ledger is not None:
            evidence.join([me, contact_node(contact.linked_before_ledger)])
    for merge in merges:
        if len(merge) >= 2 and not any(fallen(node) for node in merge):
            evidence.join(merge)
    return evidence
