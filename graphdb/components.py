"""Connected components by union-find, for the checker and for erasure's recomputation."""

from __future__ import annotations

from collections.abc import Hashable, Iterable
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
