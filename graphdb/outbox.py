"""Change events out: the ledger as a transactional outbox (graphdb.ledger).

With webhooks configured, every event is written with the label Outbox, in the transaction that
makes the change; the deliverer (resolvers.runtime.webhooks) reads them oldest first, and once
every URL has taken one, removes the label and moves the delivery cursor, a node in Neo4j. A
crash between the two sends it again: delivery is at least once, each event named by its id.
Subscriptions follow the ledger itself, by time (READ_EVENTS_SINCE).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, LiteralString

from neo4j import AsyncManagedTransaction, Record

from graphdb import cypher
from graphdb.ledger import EventRecord
from graphdb.store import Store

WEBHOOKS = "webhooks"


@dataclass(frozen=True)
class DeadLetter:
    """An event a webhook URL would not take, set aside (resolvers.runtime.webhooks)."""

    id: str
    at: str
    # The URL's place in WEBHOOK_URLS when it was set aside, and a hash of the URL itself.
    url_number: int
    url: str
    # "refused" (a 4xx that retrying would not change) or "too_old" (WEBHOOK_MAX_AGE_SECONDS).
    reason: str
    status: int | None
    event: EventRecord


@dataclass(frozen=True)
class Lag:
    seconds: float
    waiting: int


class Outbox(Store):
    """The outbox's reads and writes, and the delivery cursor's lease (graphdb.store)."""

    async def take_lease(self, owner: str, seconds: float) -> bool:
        """Whether this owner holds (or now takes, or renews) the delivery lease."""
        lease = {"name": WEBHOOKS, "owner": owner, "seconds": seconds}
        async with self._session() as session:
            records = await session.execute_write(
                _records, cypher.TAKE_DELIVERY_LEASE, {"lease": lease}
            )
        return bool(records)

    async def undelivered(self, limit: int) -> list[EventRecord]:
        async with self._session() as session:
            records = await session.execute_read(
                _records, cypher.READ_OUTBOX, {"outbox": {"limit": limit}}
            )
        return [EventRecord.from_map(record["event"]) for record in records]

    async def mark_delivered(self, event_ids: list[str]) -> None:
        delivered = {"name": WEBHOOKS, "ids": event_ids, "lastId": event_ids[-1]}
        async with self._session() as session:
            await session.execute_write(_records, cypher.MARK_DELIVERED, {"delivered": delivered})

    async def dead_letter(
        self, event_id: str, url_number: int, url: str, reason: str, status: int | None
    ) -> None:
        dead = {
            "eventId": event_id,
            "urlNumber": url_number,
            "url": url,
            "reason": reason,
            "status": status,
        }
        async with self._session() as session:
            await session.execute_write(_records, cypher.DEAD_LETTER, {"dead": dead})

    async def dead_letters(self, limit: int, letter_id: str | None = None) -> list[DeadLetter]:
        """The oldest `limit`, or the one of that id (found among all)."""
        dead = {"limit": limit, "id": letter_id}
        async with self._session() as session:
            records = await session.execute_read(_records, cypher.LIST_DEAD_LETTERS, {"dead": dead})
        return [
            DeadLetter(
                id=record["letter"]["id"],
                at=record["letter"]["at"],
                url_number=record["letter"]["urlNumber"],
                url=record["letter"]["url"],
                reason=record["letter"]["reason"],
                status=record["letter"]["status"],
                event=EventRecord.from_map(record["event"]),
            )
            for record in records
        ]

    async def drop_dead_letter(self, letter_id: str) -> bool:
        async with self._session() as session:
            records = await session.execute_write(
                _records, cypher.DROP_DEAD_LETTER, {"dead": {"id": letter_id}}
            )
        return bool(records and records[0]["dropped"])

    async def lag(self) -> Lag:
        async with self._session() as session:
            records = await session.execute_read(_records, cypher.OUTBOX_LAG, {})
        return Lag(float(records[0]["lag"]), int(records[0]["waiting"]))

    async def now(self) -> str:
        """Neo4j's clock, as the ledger's times are written."""
        async with self._session() as session:
            records = await session.execute_read(_records, cypher.LEDGER_NOW, {})
        return str(records[0]["now"])

    async def events_since(self, since: str, limit: int) -> list[EventRecord]:
        """Events written after the time `since` (ISO 8601), oldest first."""
        tail = {"since": since, "limit": limit}
        async with self._session() as session:
            records = await session.execute_read(_records, cypher.READ_EVENTS_SINCE, {"tail": tail})
        return [EventRecord.from_map(record["event"]) for record in records]


async def _records(
    tx: AsyncManagedTransaction, statement: LiteralString, params: dict[str, Any]
) -> list[Record]:
    result = await tx.run(statement, params)
    return [record async for record in result]
