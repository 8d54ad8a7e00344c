"""Warming Neo4j up before traffic: the identify transaction run hot on scratch customers.

A fresh Neo4j runs the identify transaction several times slower than a warm one (its JVM
compiles the hot paths only after many runs, and the compiling takes most of its CPU for the
first minute), and a rolling deploy would pay that on every replica. So the identify transaction
itself runs, with every kind of row (new customers, returning ones, new details, merges), on a
scratch namespace: values validation never lets through and ids below zero, so no real customer
is ever locked or linked. It runs in rounds until Neo4j's JVM has compiled what it needs (its
compiler, read over JMX, falls quiet), real traffic arrives, or the bound.

One session of each round commits, so that the commit path warms up too (after rolled-back
transactions alone, the first seconds of traffic ran at 62% of the warm rate, against 77% after
committed ones; docs/PERFORMANCE.md); the others roll back, leaving less to delete. The scratch
data is deleted later, slowly: deleting it at once made Neo4j compile the delete paths just as
traffic began.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import LiteralString

from neo4j import AsyncDriver, AsyncManagedTransaction
from neo4j.exceptions import ClientError

from graphdb import cypher
from graphdb.identify_tx import identify_batch_transaction
from graphdb.ids import IdLender
from graphdb.requests import BatchRow, IdentifyRequest

# Each round: this many sessions side by side, each running a few days of traffic (the batches
# of _day_of_traffic), each of this many customers.
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
# Identify requests served meanwhile that end the warm-up: traffic has begun (with WORKERS > 1
# the kernel hands connections to every worker as soon as one says it is ready).
LIVE_TRAFFIC = 100
# Scratch values left by a warm-up that crashed are deleted once this old.
ABANDONED_AFTER = 600
# Seconds between the transactions deleting scratch data (each up to 100 values and their
# contacts): a few minutes for a warm-up's data, hardly noticed by live traffic.
CLEANUP_PAUSE = 0.25
_SCRATCH = "warm up "


@dataclass
class WarmUpReport:
    # What every scratch value of this warm-up starts with.
    prefix: str
    seconds: float = 0.0
    # When each round ended (seconds since the start) and how long it took.
    rounds: list[tuple[float, float]] = field(default_factory=list)
    # Neo4j's JVM compiler time (ms) read at some of those moments; empty where not readable.
    jit: list[tuple[float, int]] = field(default_factory=list)
    # Stopped because real traffic arrived meanwhile.
    yielded: bool = False

    @property
    def jit_share(self) -> float | None:
        """The share of a core Neo4j's compiler used over the last window."""
        if len(self.jit) < 2:
            return None
        (then, before), (now, after) = self.jit[-2:]
        return (after - before) / 1000 / (now - then) if now > then else None

    @property
    def ended_by(self) -> str:
        if self.yielded:
            return "real traffic arrived meanwhile"
        share = self.jit_share
        if not self.settled:
            return "stopped at the bound"
        if share is not None:
            return f"its JVM compiler down to {share:.0%} of a core"
        return "rounds no longer getting faster"

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


async def warm_up_runtime(
    driver: AsyncDriver, database: str, bound: float, traffic: Callable[[], int] = lambda: 0
) -> WarmUpReport:
    """Rounds of identify transactions on scratch customers until Neo4j's compiler falls quiet,
    or `bound` seconds have passed. The scratch data stays: delete_scratch removes it, later,
    when its work no longer competes with the first traffic. Raises what the driver raises."""
    report = WarmUpReport(prefix=f"{_SCRATCH}{int(time.time())} {secrets.token_hex(4)} ")
    started = time.monotonic()
    ids = _ScratchIds()
    try:
        async with asyncio.timeout(bound) as deadline:
            await _read_jit(driver, database, report, 0.0)
            served = traffic()
            while not report.settled:
                if traffic() - served >= LIVE_TRAFFIC:
                    # Real requests warm Neo4j as well as scratch ones, and compete with them:
                    # another worker or replica was ready first, and traffic is flowing.
                    report.yielded = True
                    break
                round_started = time.monotonic()
                tags = [f"{report.prefix}{len(report.rounds)}.{n}" for n in range(SESSIONS)]
                # One session commits: the commit path warms up, and the scratch data to delete
                # afterwards is a quarter of what committing them all would leave.
                await asyncio.gather(
                    *(
                        _session(driver, database, ids, tag, commit=n == 0)
                        for n, tag in enumerate(tags)
                    )
                )
                report.seconds = time.monotonic() - started
                report.rounds.append((report.seconds, time.monotonic() - round_started))
                if report.jit and report.seconds - report.jit[-1][0] >= JIT_WINDOW:
                    await _read_jit(driver, database, report, report.seconds)
    except TimeoutError:
        if not deadline.expired():
            raise  # the driver's own timeout: Neo4j did not answer in time
    report.seconds = time.monotonic() - started
    return report


async def delete_scratch(
    driver: AsyncDriver, database: str, report: WarmUpReport, *, gently: bool = True
) -> None:
    """This warm-up's scratch data, and any a crashed warm-up left, a hundred values (and their
    contacts) a transaction; gently, with pauses between, so that live traffic hardly notices."""
    pause = CLEANUP_PAUSE if gently else 0.0
    await _delete_scratch(driver, database, report.prefix, 2**62, pause)
    await _delete_scratch(driver, database, _SCRATCH, int(time.time()) - ABANDONED_AFTER, pause)


async def _read_jit(driver: AsyncDriver, database: str, report: WarmUpReport, at: float) -> None:
    try:
        records, _, _ = await driver.execute_query(
            cypher.JIT_COMPILATION_MILLISECONDS, database_=database, routing_="r"
        )
    except ClientError:
        return  # not allowed to (a user without admin rights): the rounds' times decide
    report.jit.append((at, int(records[0]["milliseconds"])))


async def _session(
    driver: AsyncDriver, database: str, ids: _ScratchIds, tag: str, *, commit: bool
) -> None:
    """A few days of traffic: committed, a transaction a batch as the service commits them; or
    a transaction a day, rolled back, which warms all but the commit and leaves nothing."""
    async with driver.session(database=database) as session:
        for day in range(DAYS_PER_SESSION):
            batches = _day_of_traffic(f"{tag}.{day}")
            if commit:
                for batch in batches:
                    rows = [BatchRow(request, IdLender(ids)) for request in batch]
                    await session.execute_write(identify_batch_transaction, rows)
                continue
            transaction = await session.begin_transaction()
            try:
                for batch in batches:
                    rows = [BatchRow(request, IdLender(ids)) for request in batch]
                    await identify_batch_transaction(transaction, rows)
            finally:
                if not transaction.closed():
                    await transaction.rollback()


async def _delete_scratch(
    driver: AsyncDriver, database: str, prefix: str, before: int, pause: float
) -> None:
    async with driver.session(database=database) as session:
        for statement in (cypher.DELETE_WARM_UP_EMAILS, cypher.DELETE_WARM_UP_PHONES):
            deleted = 1
            while deleted:
                deleted = await session.execute_write(_delete_some, statement, prefix, before)
                await asyncio.sleep(pause)


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
