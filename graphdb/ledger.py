"""The ledger: what every change to a cluster records, in the transaction that makes it.

An (:Event) names its kind (CREATED, LINKED, MERGED, SPLIT, ERASED), when (Neo4j's clock, read
while the cluster's locks are held, so a cluster's events are in the order they committed), the
request id, the contacts it concerns (ABOUT edges too, so a cluster's history is one hop from its
contacts), the primaries before and after, and the bridge: the kind of value that joined, and its
keyed hash. The ledger holds no value in clear, so an erased value leaves nothing behind in it.

A merge is evidence of its own: no value need be shared between the two clusters it joined, only
the request's email and phone (or, on purpose, the two contacts an operator named). Its event
points at those (EVIDENCE edges); erasing one of them deletes its edge, and with it the merge's
standing (graphdb.erasure).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from functools import lru_cache
from typing import Any

from neo4j import AsyncManagedTransaction

from graphdb import cypher
from graphdb.records import native_time

# 64 bits: values of one install collide only past billions of them. What keeps a reader from
# testing guesses is the key, not the length.
TOKEN_HEX_CHARS = 16


# A request's values are hashed for the ledger and again for its access line, and a returning
# customer's on every visit: each process keeps the last few thousand, as it keeps their
# canonical forms (resolvers.core.identifiers).
_CACHED_TOKENS = 8192


@lru_cache(maxsize=_CACHED_TOKENS)
def keyed_token(key: bytes, kind: str, value: str) -> str:
    """`email:3f2a9c01b2d4e5f6`: the kind stays readable, the value does not. The kind is
    hashed too, so that one string hashes differently as an email and as a phone."""
    keyed = _keyed(key).copy()
    keyed.update(f"{kind}:{value}".encode())
    return f"{kind}:{keyed.hexdigest()[:TOKEN_HEX_CHARS]}"


@lru_cache(maxsize=8)
def _keyed(key: bytes) -> hmac.HMAC:
    """The HMAC with its key already mixed in: a copy of it costs less than a new one."""
    return hmac.new(key, digestmod=hashlib.sha256)


class ValueTokens:
    """The keyed hashes of values, as the ledger (and the logs) carry them."""

    def __init__(self, key: bytes | None = None) -> None:
        # Without the install's key, a key of this process: hashes then match no other's.
        self._key = key if key is not None else secrets.token_bytes(32)

    def __call__(self, kind: str, value: str | None) -> str | None:
        return None if value is None else keyed_token(self._key, kind, value)


class EventKind(Enum):
    CREATED = "CREATED"
    LINKED = "LINKED"
    MERGED = "MERGED"
    SPLIT = "SPLIT"
    ERASED = "ERASED"


class BridgeKind(Enum):
    EMAIL = "email"
    PHONE = "phone"
    # Merged on purpose, by an operator (mergeClusters).
    OPERATOR = "operator"


@dataclass(frozen=True)
class MergeCause:
    """Why clusters merge, as their MERGED events record it: the bridge, and the evidence."""

    bridge: BridgeKind
    bridge_token: str | None = None
    request_id: str | None = None
    # The request's values (identify), the value the clusters now share (recanonicalize), or
    # the contacts named (an operator's merge): the evidence the merge stands on.
    email: str | None = None
    phone: str | None = None
    contact_ids: tuple[int, ...] = ()
    # Whether its events go out to the webhooks (graphdb.outbox).
    outbox: bool = False

    def params(self) -> dict[str, Any]:
        return {
            "requestId": self.request_id,
            "bridgeKind": self.bridge.value,
            "bridgeHash": self.bridge_token,
            "email": self.email,
            "phone": self.phone,
            "contactIds": list(self.contact_ids),
            "outbox": self.outbox,
        }


@dataclass(frozen=True)
class EventRecord:
    id: str
    at: str  # ISO 8601, as Neo4j writes it
    kind: EventKind
    request_id: str | None
    contact_ids: tuple[int, ...]
    primary_before: int | None
    primary_after: int | None
    bridge: BridgeKind | None
    bridge_token: str | None

    @property
    def time(self) -> datetime:
        return native_time(self.at)

    @classmethod
    def from_map(cls, event: dict[str, Any]) -> EventRecord:
        bridge = event.get("bridgeKind")
        return cls(
            id=event["id"],
            at=event["at"],
            kind=EventKind(event["kind"]),
            request_id=event.get("requestId"),
            contact_ids=tuple(event.get("contactIds") or ()),
            primary_before=event.get("primaryBefore"),
            primary_after=event.get("primaryAfter"),
            bridge=None if bridge is None else BridgeKind(bridge),
            bridge_token=event.get("bridgeHash"),
        )


class HistoryNotFound(LookupError):
    """No live contact has the id, or no event the cursor."""


async def read_history(
    tx: AsyncManagedTransaction, contact_id: int, first: int, after: str | None
) -> list[EventRecord]:
    """The events of a contact's cluster, newest first: `first` of them after the event `after`."""
    history = {"contactId": contact_id, "first": first, "after": after}
    record = await (await tx.run(cypher.READ_HISTORY, history=history)).single(strict=True)
    if not record["found"]:
        raise HistoryNotFound("No contact has that id.")
    if not record["cursorFound"]:
        raise HistoryNotFound("after is no event of this ledger.")
    return [EventRecord.from_map(event) for event in record["events"]]
