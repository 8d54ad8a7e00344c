"""Warming Neo4j up before traffic: every statement planned, then the real statements run hot.

Planning: a statement's first run plans it, which for the identify statements costs Neo4j 0.3 to
2 s of CPU. Without it, the first burst of traffic has every transaction planning the same
statements at once (plans are cached by statement text and parameter types).

Running: a fresh Neo4j runs the identify transaction several times slower than a warm one (its
JVM compiles the hot paths only after many runs, and the compiling takes most of its CPU for
the first minute), and a rolling deploy would pay that on every replica. So the identify
transaction itself runs, committed, with every kind of row (new customers, returning ones, new
details, merges), on a scratch namespace: values validation never lets through and ids below
zero, so no real customer is ever locked or linked. It runs in rounds until Neo4j's JVM has
compiled what it needs (its compiler, read over JMX, falls quiet), or the bound. The scratch
data is deleted later, slowly: deleting it at once made Neo4j compile the delete paths just as
traffic began. (Rolled-back transactions warm
less: the commit path stays cold, and the first seconds of traffic after them ran at 62% of the
warm rate against 77% after committed ones; docs/PERFORMANCE.md.)
"""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, LiteralString

from neo4j import AsyncDriver, AsyncManagedTransaction
from neo4j.exceptions import ClientError

from graphdb import cypher
from graphdb.identify_tx import identify_batch_transaction
from graphdb.ids import IdLender
from graphdb.requests import BatchRow, IdentifyRequest

# Values validation never lets through (no @, letters in a phone), so warming up never locks a
# real customer.
_EMAIL = "warm up"
_PHONE = "warm up"
_MISSING_ID = -1

# Each round: this many sessions side by side, each running a few days of traffic, a day being
# one transaction per batch below, each of this many customers.
SESSIONS = 4
DAYS_PER_SESSION = 2
CUSTOMERS = 8
# Warm: the JVM's compiler, which takes about a whole core for the first half minute of load,
# used less than this share of a core over the last window of this many seconds.
JIT_SETTLED_SHARE = 0.10
JIT_WINDOW = 2.0
# Where Neo4j does not let us read its compiler's time: the best round of the last window no
# faster than the best before it (by this factor).
ROUNDS_WINDOW = 10.0
FASTER = 1.05
# Scratch values left by a warm-up that crashed are deleted once this old.
ABANDONED_AFTER = 600
# Seconds between the transactions deleting scratch data (each up to 100 values and their
# contacts): a few minutes for a warm-up's data, hardly noticed by live traffic.
CLEANUP_PAUSE = 0.25
_SCRATCH = "warm up "


def _row(index: int, email: str | None, phone: str | None) -> dict[str, Any]:
    return {"index": index, "email": email, "phone": phone, "id": -1 - index, "createdAt": None}


# The identify statements plan with and without their create step: the contacts made are rolled
# back at the end, and ids below zero are never handed out.
_ROWS = [_row(0, _EMAIL, _PHONE), _row(1, _EMAIL + " 2", None), _row(2, None, _PHONE + " 2")]
_STATEMENTS: list[tuple[LiteralString, dict[str, Any]]] = [
    (
        cypher.IDENTIFY_BATCH,
        {
            "batch": {
                "rows": _ROWS,
                "emails": sorted(row["email"] for row in _ROWS if row["email"]),
                "phones": sorted(row["phone"] for row in _ROWS if row["phone"]),
            }
        },
    ),
    (
        cypher.LOCK_PRIMARIES_AND_READ,
        {"batch": {"primaryIds": [_MISSING_ID], "rows": [_row(3, _EMAIL, _PHONE)]}},
    ),
    (
        cypher.MERGE_CLUSTERS_AND_READ,
        {"merge": {"winnerId": _MISSING_ID, "loserIds": [_MISSING_ID]}},
    ),
    (cypher.READ_CLUSTERS_OF_CONTACTS, {"read": {"ids": [_MISSING_ID]}}),
    (cypher.READ_CLUSTER_BY_ID, {"id": _MISSING_ID}),
    (cypher.READ_CLUSTER_BY_EMAIL, {"email": _EMAIL}),
    (cypher.READ_CLUSTER_BY_PHONE, {"phone": _PHONE}),
]


async def warm_up_plans(driver: AsyncDriver, database: str) -> None:
    async with driver.session(database=database) as session:
        transaction = await session.begin_transaction()
        try:
            for statement, params in _STATEMENTS:
                await (await transaction.run(statement, params)).consume()
        finally:
            # Cancelled or failed midway, the transaction may be closed already.
            if not transaction.closed():
                await transaction.rollback()


@dataclass
class WarmUpReport:
    # What every scratch value of this warm-up starts with.
    prefix: str
    seconds: float = 0.0
    # When each round ended (seconds since the start) and how long it took.
    rounds: list[tuple[float, float]] = field(default_factory=list)
    # Neo4j's JVM compiler time (ms) read at some of those moments; empty where not readable.
    jit: list[tuple[float, int]] = field(default_factory=list)

    @property
    def jit_share(self) -> float | None:
        """The share of a core Neo4j's compiler used over the last window."""
        if len(self.jit) < 2:
            return None
        (then, before), (now, after) = self.jit[-2:]
        return (after - before) / 1000 / (now - then) if now > then else None

    @property
    def settled(self) -> bool:
        share = self.jit_share
        if share is not None:
            return share < JIT_SETTLED_SHARE
        if self.jit or not self.rounds:
            return False
        recent = [took for ended, took in self.rounds if ended > self.seconds - ROUNDS_WINDOW]
        before = [took for ended, took in self.rounds if ended <= self.seconds - ROUNDS_WINDOW]
        return bool(before) and min(recent) * FASTER >= min(before)


class _ScratchIds:
    """Ids below zero, distinct per warm-up, so concurrent warm-ups (other workers, other
    replicas) never meet on Contact.id's uniqueness lock."""

    def __init__(self) -> None:
        self._next = -1 - secrets.randbelow(2**40) * 10_000

    def pop_smallest(self) -> int:
        self._next -= 1
        return self._next

    def give_back(self, contact_id: int) -> None:
        pass


async def warm_up_runtime(driver: AsyncDriver, database: str, bound: float) -> WarmUpReport:
    """Rounds of identify transactions on scratch customers until Neo4j's compiler falls quiet,
    or `bound` seconds have passed. The scratch data stays: delete_scratch removes it, later,
    when its work no longer competes with the first traffic. Raises what the driver raises."""
    report = WarmUpReport(prefix=f"{_SCRATCH}{int(time.time())} {secrets.token_hex(4)} ")
    started = time.monotonic()
    ids = _ScratchIds()
    try:
        async with asyncio.timeout(bound) as deadline:
            await _read_jit(driver, database, report, 0.0)
            while not report.settled:
                round_started = time.monotonic()
                tags = [f"{report.prefix}{len(report.rounds)}.{n}" for n in range(SESSIONS)]
                await asyncio.gather(*(_session(driver, database, ids, tag) for tag in tags))
                report.seconds = time.monotonic() - started
                report.rounds.append((report.seconds, time.monotonic() - round_started))
                if report.jit and report.seconds - report.jit[-1][0] >= JIT_WINDOW:
                    await _read_jit(driver, database, report, report.seconds)
    except TimeoutError:
        if not deadline.expired():
            raise  # the driver's own timeout: Neo4j did not answer in time
    report.seconds = time.monotonic() - started
    return report


async def delete_scratch(driver: AsyncDriver, database: str, report: WarmUpReport) -> None:
    """This warm-up's scratch data, and any a crashed warm-up left, a few hundred nodes a
    transaction with pauses between, so that live traffic hardly notices."""
    await _delete_scratch(driver, database, report.prefix, before=2**62)
    await _delete_scratch(driver, database, _SCRATCH, before=int(time.time()) - ABANDONED_AFTER)


async def _read_jit(driver: AsyncDriver, database: str, report: WarmUpReport, at: float) -> None:
    try:
        records, _, _ = await driver.execute_query(
            cypher.JIT_COMPILATION_MILLISECONDS, database_=database, routing_="r"
        )
    except ClientError:
        return  # not allowed to (a user without admin rights): the rounds' times decide
    report.jit.append((at, int(records[0]["milliseconds"])))


async def _session(driver: AsyncDriver, database: str, ids: _ScratchIds, tag: str) -> None:
    async with driver.session(database=database) as session:
        for day in range(DAYS_PER_SESSION):
            for batch in _day_of_traffic(f"{tag}.{day}"):
                rows = [BatchRow(request, IdLender(ids)) for request in batch]
                await session.execute_write(identify_batch_transaction, rows)


async def _delete_scratch(driver: AsyncDriver, database: str, prefix: str, before: int) -> None:
    async with driver.session(database=database) as session:
        for statement in (cypher.DELETE_WARM_UP_EMAILS, cypher.DELETE_WARM_UP_PHONES):
            deleted = 1
            while deleted:
                deleted = await session.execute_write(_delete_some, statement, prefix, before)
                await asyncio.sleep(CLEANUP_PAUSE)


async def _delete_some(
    tx: AsyncManagedTransaction, statement: LiteralString, prefix: str, before: int
) -> int:
    record = await (await tx.run(statement, prefix=prefix, before=before)).single(strict=True)
    deleted: int = record["deleted"]
    return deleted


def _day_of_traffic(tag: str) -> list[list[IdentifyRequest]]:
    """Batches as the service sees them, each a transaction: new customers, the same again
    (nothing new), a new phone on each, then merges of neighbouring customers."""
    emails = [f"{tag}.{n}" for n in range(CUSTOMERS)]
    phones = [f"{tag}.{n}" for n in range(CUSTOMERS)]
    new_phones = [f"{tag}.{n} again" for n in range(CUSTOMERS)]
    return [
        [IdentifyRequest(email, phone) for email, phone in zip(emails, phones, strict=True)],
        [IdentifyRequest(email, None) for email in emails],
        [IdentifyRequest(None, phone) for phone in phones],
        [IdentifyRequest(e, p) for e, p in zip(emails, new_phones, strict=True)],
        [IdentifyRequest(emails[n], phones[n + 1]) for n in range(0, CUSTOMERS - 1, 2)],
    ]
