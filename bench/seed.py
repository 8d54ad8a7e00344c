"""Bulk seeding for benchmarks: customers and one big cluster, written in UNWIND batches.

The seeded graph has exactly the shape identify builds, so the service cannot tell it apart from
one grown by requests: customer k is a primary (a<k>@seed.example, phone(k)) and a secondary
(b<k>@seed.example, same phone) linked to it. Ids start at 1 and the id sequence is moved past them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC
from typing import Any, LiteralString, TypeVar

from neo4j import AsyncDriver
from neo4j.time import DateTime

from graphdb.driver import Neo4jConnection, create_driver

T = TypeVar("T")
CONTACTS_PER_CUSTOMER = 2
# Zoned like the times the service stores (UTC), so seeded and served contacts order together.
SEEDED_AT = DateTime(2020, 1, 1, 0, 0, 0, tzinfo=UTC)
BATCH = 5_000  # customers per transaction: big enough to amortise a commit, small for the heap

# One customer per row; CREATE, not MERGE: seeding writes values nobody has written before, and
# the uniqueness constraints would reject a duplicate anyway.
_CREATE_CUSTOMERS: LiteralString = """
UNWIND $rows AS row
CREATE (phone:Phone {value: row.phone})
CREATE (emailA:Email {value: row.emailA})
CREATE (emailB:Email {value: row.emailB})
CREATE (primary:Contact {id: row.id, email: row.emailA, phoneNumber: row.phone,
                         linkPrecedence: 'primary', createdAt: $createdAt, updatedAt: $createdAt})
CREATE (secondary:Contact {id: row.id + 1, email: row.emailB, phoneNumber: row.phone,
                           linkPrecedence: 'secondary',
                           createdAt: $createdAt + duration({microseconds: 1}),
                           updatedAt: $createdAt + duration({microseconds: 1})})
CREATE (primary)-[:HAS_EMAIL]->(emailA), (primary)-[:HAS_PHONE]->(phone)
CREATE (secondary)-[:HAS_EMAIL]->(emailB), (secondary)-[:HAS_PHONE]->(phone)
CREATE (secondary)-[:LINKED_TO]->(primary)
"""

_CREATE_BIG_PRIMARY: LiteralString = """
CREATE (phone:Phone {value: $phone})
CREATE (email:Email {value: $email})
CREATE (primary:Contact {id: $id, email: $email, phoneNumber: $phone,
                         linkPrecedence: 'primary', createdAt: $createdAt, updatedAt: $createdAt})
CREATE (primary)-[:HAS_EMAIL]->(email), (primary)-[:HAS_PHONE]->(phone)
"""

_CREATE_BIG_SECONDARIES: LiteralString = """
MATCH (phone:Phone {value: $phone})
MATCH (primary:Contact {id: $primaryId})
UNWIND $rows AS row
CREATE (email:Email {value: row.email})
CREATE (secondary:Contact {id: row.id, email: row.email, phoneNumber: $phone,
                           linkPrecedence: 'secondary',
                           createdAt: $createdAt + duration({microseconds: row.id}),
                           updatedAt: $createdAt + duration({microseconds: row.id})})
CREATE (secondary)-[:HAS_EMAIL]->(email), (secondary)-[:HAS_PHONE]->(phone)
CREATE (secondary)-[:LINKED_TO]->(primary)
"""

_MOVE_ID_SEQUENCE: LiteralString = """
MERGE (sequence:ContactIdSequence {name: 'contact'})
SET sequence.next = $next
"""

# Past every contact and every id block a running service may still hold.
_NEXT_FREE_ID: LiteralString = """
OPTIONAL MATCH (sequence:ContactIdSequence {name: 'contact'})
WITH coalesce(sequence.next, 1) AS reserved
OPTIONAL MATCH (contact:Contact)
WITH reserved, coalesce(max(contact.id), 0) AS highest
RETURN CASE WHEN highest >= reserved THEN highest + 1 ELSE reserved END AS next
"""


def customer_email(k: int, which: str = "a") -> str:
    return f"{which}{k}@seed.example"


def customer_phone(k: int) -> str:
    return f"1{k:09d}"


def big_cluster_phone() -> str:
    return "2000000000"


def big_cluster_email(k: int) -> str:
    return f"big{k}@seed.example"


@dataclass(frozen=True)
class SeedReport:
    contacts: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.contacts / self.seconds if self.seconds else 0.0


async def _next_id(driver: AsyncDriver, database: str) -> int:
    records, _, _ = await driver.execute_query(_NEXT_FREE_ID, database_=database)
    return int(records[0]["next"])


async def _move_sequence(driver: AsyncDriver, database: str, next_id: int) -> None:
    await driver.execute_query(_MOVE_ID_SEQUENCE, next=next_id, database_=database)


def _batches(first: int, end: int, size: int) -> Iterator[range]:
    for start in range(first, end, size):
        yield range(start, min(start + size, end))


async def seed_customers(
    driver: AsyncDriver, database: str, first: int, end: int, created_at: Any
) -> SeedReport:
    """Customers first..end-1 (two contacts each); safe to extend a seeded graph with more."""
    started = time.perf_counter()
    next_id = await _next_id(driver, database)
    for customers in _batches(first, end, BATCH):
        rows = [
            {
                "id": next_id + CONTACTS_PER_CUSTOMER * (k - first),
                "phone": customer_phone(k),
                "emailA": customer_email(k, "a"),
                "emailB": customer_email(k, "b"),
            }
            for k in customers
        ]
        await driver.execute_query(
            _CREATE_CUSTOMERS, rows=rows, createdAt=created_at, database_=database
        )
    await _move_sequence(driver, database, next_id + CONTACTS_PER_CUSTOMER * (end - first))
    return SeedReport(CONTACTS_PER_CUSTOMER * (end - first), time.perf_counter() - started)


async def seed_big_cluster(
    driver: AsyncDriver, database: str, size: int, created_at: Any
) -> SeedReport:
    """One cluster of `size` contacts that all share big_cluster_phone()."""
    started = time.perf_counter()
    primary_id = await _next_id(driver, database)
    phone = big_cluster_phone()
    await driver.execute_query(
        _CREATE_BIG_PRIMARY, id=primary_id, phone=phone, email=big_cluster_email(0),
        createdAt=created_at, database_=database,
    )  # fmt: skip
    for members in _batches(1, size, BATCH):
        rows = [{"id": primary_id + k, "email": big_cluster_email(k)} for k in members]
        await driver.execute_query(
            _CREATE_BIG_SECONDARIES, rows=rows, phone=phone, primaryId=primary_id,
            createdAt=created_at, database_=database,
        )  # fmt: skip
    await _move_sequence(driver, database, primary_id + size)
    return SeedReport(size, time.perf_counter() - started)


def with_driver(connection: Neo4jConnection, work: Callable[..., Awaitable[T]], *args: Any) -> T:
    """`work(driver, database, *args)` on a driver of its own, from synchronous code."""

    async def go() -> T:
        driver = create_driver(connection)
        try:
            return await work(driver, connection.database, *args)
        finally:
            await driver.close()

    return asyncio.run(go())
