"""GraphQL types of the ledger: a cluster's history events and their bridges, and the chain that
explains a link."""

from __future__ import annotations

from datetime import datetime

import strawberry

from graphdb.explain import ChainNode
from graphdb.explain import Explanation as ExplanationRecord
from graphdb.ledger import BridgeKind, EventKind, EventRecord

strawberry.enum(
    EventKind,
    name="EventKind",
    description="CREATED: a new primary; LINKED: a new secondary; MERGED: a cluster joined "
    "another; SPLIT: erasure left a cluster in parts; ERASED: values were erased.",
)
strawberry.enum(
    BridgeKind,
    name="BridgeKind",
    description="The kind of value that joined (email, phone), or operator for a merge made on "
    "purpose.",
)


@strawberry.type(description="What joined: a kind of value and its keyed hash, never the value.")
class Bridge:
    kind: BridgeKind
    hash: str | None = strawberry.field(
        description="The value's keyed hash, as the logs print it (`identity log-hash`)."
    )


@strawberry.type(description="One entry of a cluster's ledger, written with the change it records.")
class HistoryEvent:
    id: str = strawberry.field(description="Pass as `after` for the next page.")
    at: datetime
    kind: EventKind
    request_id: str | None = strawberry.field(description="The request that made the change.")
    contact_ids: list[int] = strawberry.field(description="The contacts it made or relinked.")
    primary_before: int | None = strawberry.field(
        description="MERGED: the primary that stopped being one; SPLIT: the cluster's primary "
        "before; ERASED: the carriers' primary before, when they had one."
    )
    primary_after: int | None = strawberry.field(
        description="The primary after the change (ERASED: when the carriers have one)."
    )
    bridge: Bridge | None

    @classmethod
    def from_record(cls, record: EventRecord) -> HistoryEvent:
        return cls(
            id=record.id,
            at=record.time,
            kind=record.kind,
            request_id=record.request_id,
            contact_ids=list(record.contact_ids),
            primary_before=record.primary_before,
            primary_after=record.primary_after,
            bridge=None
            if record.bridge is None
            else Bridge(kind=record.bridge, hash=record.bridge_token),
        )


@strawberry.type(description="A step of a chain: a contact, or a value (exactly one is set).")
class ChainStep:
    contact_id: int | None
    email: str | None
    phone_number: str | None

    @classmethod
    def from_node(cls, node: ChainNode) -> ChainStep:
        return cls(contact_id=node.contact_id, email=node.email, phone_number=node.phone)


@strawberry.type(description="Two neighbours of a chain, and the event that joined them.")
class ChainLink:
    source: ChainStep = strawberry.field(name="from")
    target: ChainStep = strawberry.field(name="to")
    event: HistoryEvent | None = strawberry.field(
        description="The contact's CREATED or LINKED event where it carries the value; the "
        "MERGED event where a merge joined; null for data older than the ledger."
    )


@strawberry.type(description="Why two contacts are linked.")
class Explanation:
    connected: bool = strawberry.field(description="Whether they are in one cluster now.")
    path: list[ChainLink] = strawberry.field(
        description="The shortest chain of contacts and shared values joining them; empty when "
        "they are not connected, or are one contact."
    )

    @classmethod
    def from_record(cls, explanation: ExplanationRecord) -> Explanation:
        return cls(
            connected=explanation.connected,
            path=[
                ChainLink(
                    source=ChainStep.from_node(link.source),
                    target=ChainStep.from_node(link.target),
                    event=None if link.event is None else HistoryEvent.from_record(link.event),
                )
                for link in explanation.path
            ],
        )
