"""Cypher PROFILE of the identify statements on the seeded graph: database hits per statement.

Database hits count the work Neo4j's operators do. The same figure at 10 thousand and 1 million
contacts shows the statement's cost does not grow with the database. Each statement runs in a
transaction that is rolled back, so profiling leaves the graph as it was.
"""

from __future__ import annotations

from typing import Any, LiteralString

from neo4j import AsyncDriver

from bench.seed import customer_email, customer_phone
from graphdb import cypher
from graphdb.identify_tx import LinkRules
from graphdb.ids import IdSequence
from graphdb.requests import IdentifyRequest, batch_params

# Contacts made while profiling are rolled back; their ids come from a sequence of their own.
_IDS = IdSequence("profile", base=-1_000_000, step=-1)


def _db_hits(plan: dict[str, Any]) -> int:
    own = int(plan.get("dbHits", 0))
    return own + sum(_db_hits(child) for child in plan.get("children", []))


async def profile(driver: AsyncDriver, database: str, customer: int) -> dict[str, int]:
    """Database hits of the batch statement, for one request: a returning customer, a new one."""
    known = {"email": customer_email(customer), "phone": customer_phone(customer)}
    cases: dict[str, dict[str, Any]] = {
        "returning customer": known,
        "new customer": {"email": "profile@new.example", "phone": "5550000001"},
        "new phone, known email": known | {"phone": "5550000002"},
    }
    hits: dict[str, int] = {}
    async with driver.session(database=database) as session:
        for name, params in cases.items():
            transaction = await session.begin_transaction()
            try:
                statement: LiteralString = "PROFILE " + cypher.IDENTIFY_BATCH
                request = IdentifyRequest(params["email"], params["phone"])
                batch = batch_params(
                    [request],
                    max_per_identifier=LinkRules().max_contacts_per_identifier,
                    outbox=False,
                    ids=_IDS,
                )
                result = await transaction.run(statement, batch=batch)
                summary = await result.consume()
                hits[name] = _db_hits(summary.profile or {})
            finally:
                await transaction.rollback()
    return hits
