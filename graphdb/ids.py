"""Contact ids: unique, never reused, dense, and in creation order across every process.

They come from a sequence node in Neo4j, taken by the very statement that creates the contacts
(graphdb.cypher.identify), as its last lock: a batch takes all its ids at once, the lock is held
only for the rest of that statement and the commit, and a transaction that does not commit
takes none. So a contact whose request started after another contact's request was answered
always has the larger id, whichever worker or service process served each: the other's
transaction had committed its ids before this one could lock the sequence. (Ids reserved in
blocks per process, as before, grew in creation order only within one process.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

CONTACT_SEQUENCE = "contact"


@dataclass(frozen=True)
class IdSequence:
    """Where a batch's new contacts take their ids: the nth id of the sequence named `name` is
    `base + step * n`. The service's contacts count up from 1; the warm-up's scratch contacts
    count down from a random point below zero, on a sequence of their own."""

    name: str = CONTACT_SEQUENCE
    base: int = 0
    step: int = 1

    def params(self) -> dict[str, Any]:
        return {"sequence": self.name, "base": self.base, "step": self.step}


CONTACT_IDS = IdSequence()
