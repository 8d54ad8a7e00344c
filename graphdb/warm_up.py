"""Warming Neo4j up before traffic: identify traffic on scratch customers, through a batcher.

A fresh Neo4j runs the identify transaction several times slower than a warm one (its JVM
compiles the hot paths only after many runs, and the compiling takes most of its CPU for the
first minute), and a rolling deploy would pay that on every replica. So the warm-up sends
traffic shaped as the service's (new customers, returning ones, new details, merges, from many
clients at once) through a batcher and committer of its own, exactly as requests go, but on a
scratch namespace: values validation never lets through and ids below zero, so no real customer
is ever locked or linked. It runs in rounds until Neo4j's JVM has compiled what it needs (its
compiler, read over JMX, falls quiet), real traffic arrives, or the bound.

Each round deletes the round before it, so the scratch data never grows past two rounds, and
what traffic does after a warm-up was compiled during it: the commit path (rolled-back
transactions left it cold, and the first seconds of traffic ran at 62% of the warm rate), the
reuse of freed record ids, and the delete path (deleting the scratch data only afterwards made
Neo4j compile those just as traffic began). See docs/PERFORMANCE.md.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import LiteralString

from neo4j import AsyncDriver, AsyncManagedTransaction
from neo4j.exceptions import ClientError

from graphdb import cypher
from graphdb.ids import IdSequence
from graphdb.records import IdentifyRecord
from graphdb.requests import IdentifyRequest

Submit = Callable[[IdentifyRequest], Awaitable[IdentifyRecord]]

# Each round: this many clients at once, each sending this many requests, in the service's mix
# (bench/workloads.py): new customers, returning ones, a new detail, merges of two customers.
CLIENTS = 32
REQUESTS_PER_CLIENT = 12
MIX = (("new", 0.55), ("returning", 0.30), ("new_info", 0.10), ("merge", 0.05))
# Warm: the JVM's compiler, which takes about a whole core for the first half minute of load,
# used less than this share of a core over the last few windows (of this many seconds on the
# wall clock).
JIT_SETTLED_SHARE = 0.10
JIT_WINDOW = 2.0
JIT_WINDOWS = 3
# Where Neo4j does not let us read its compiler's time: the best round of the last window no
# faster than the best before it (by this factor).
ROUNDS_WINDOW = 10.0
FASTER = 1.05
# Identify requests served meanwhile that end the warm-up: traffic has begun (with WORKERS > 1
# the kernel hands connections to every worker as soon as one says it is ready).
LIVE_TRAFFIC = 100
# Scratch values left by a warm-up that crashed are deleted once this old.
ABANDONED_AFTER = 600
# The most time deleting what is left at the end may take (two rounds of scratch data take a
# fraction of a second; a crashed warm-up's leftovers may take longer and wait for the next).
CLEANUP_BOUND = 5.0
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
    # When the compiler's time was last read, on the wall clock.
    jit_read_at: float = 0.0

    @property
    def jit_share(self) -> float | None:
        """The share of a core Neo4j's compiler used over the last few windows: its work comes
        in bursts, and one quiet window in the middle of them is not the end of it."""
        if len(self.jit) <= JIT_WINDOWS:
            return None
        (then, before), (now, after) = self.jit[-1 - JIT_WINDOWS], self.jit[-1]
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


def scratch_ids(prefix: str) -> IdSequence:
    """Ids below zero, from a sequence of the warm-up's own (named with its prefix, so the
    clean-up finds it), from a random point, so concurrent warm-ups (other workers, other
    replicas) never meet on Contact.id's uniqueness or the real sequence's lock."""
    return IdSequence(f"{prefix}ids", base=-1 - secrets.randbelow(2**40) * 10_000, step=-1)


def new_prefix() -> str:
    """Values validation refuses (no @; letters in a phone): no real customer shares one."""
    return f"{_SCRATCH}{int(time.time())} {secrets.token_hex(4)} "


async def warm_up_runtime(
    driver: AsyncDriver,
    database: str,
    bound: float,
    submit: Submit,
    *,
    prefix: str,
    traffic: Callable[[], int] = lambda: 0,
) -> WarmUpReport:
    """Rounds of scratch traffic through `submit` until Neo4j's compiler falls quiet, real
    traffic arrives (`traffic` counts requests served), or `bound` seconds have passed. Every
    scratch value starts with `prefix` (new_prefix). Leaves no scratch data behind, even
    cancelled. Raises what `submit` and the driver raise."""
    report = WarmUpReport(prefix)
    started = time.monotonic()
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
                await _round(driver, database, submit, report, started)
                if report.jit and _next_window(report.jit_read_at, time.time()):
                    await _read_jit(driver, database, report, report.seconds)
    except TimeoutError:
        if not deadline.expired():
            raise  # the driver's own timeout: Neo4j did not answer in time
    finally:
        # Shielded and bounded: cancelled at shutdown, it still removes what it wrote (two
        # rounds at most), and a crashed warm-up's leftovers go too.
        async with asyncio.timeout(CLEANUP_BOUND):
            await asyncio.shield(_delete_all_scratch(driver, database, report.prefix))
    report.seconds = time.monotonic() - started
    return report


async def _round(
    driver: AsyncDriver, database: str, submit: Submit, report: WarmUpReport, started: float
) -> None:
    number = len(report.rounds)
    round_started = time.monotonic()
    tags = [f"{report.prefix}{number}.{client}" for client in range(CLIENTS)]
    await asyncio.gather(*(_client(submit, tag, number) for tag in tags))
    if number:
        await _delete_scratch(driver, database, f"{report.prefix}{number - 1}.", 2**62)
    report.seconds = time.monotonic() - started
    report.rounds.append((report.seconds, time.monotonic() - round_started))


async def _client(submit: Submit, tag: str, seed: int) -> None:
    """One client's requests in the mix; returning customers and merges use its own earlier
    customers, so that every request meets only this round's scratch data."""
    chance = random.Random(f"{tag} {seed}")  # noqa: S311 - a traffic shape, not a secret
    customers: list[tuple[str, str]] = []
    names = [name for name, _ in MIX]
    weights = [weight for _, weight in MIX]
    for n in range(REQUESTS_PER_CLIENT):
        kind = chance.choices(names, weights)[0] if len(customers) >= 2 else "new"
        if kind == "new":
            customers.append((f"{tag}.{n}", f"{tag}.{n}"))
            request = IdentifyRequest(*customers[-1])
        elif kind == "returning":
            email, phone = chance.choice(customers)
            request = chance.choice(
                [
                    IdentifyRequest(email, phone),
                    IdentifyRequest(email, None),
                    IdentifyRequest(None, phone),
                ]
            )
        elif kind == "new_info":
            request = IdentifyRequest(chance.choice(customers)[0], f"{tag}.{n} new")
        else:
            first, second = chance.sample(customers, 2)
            request = IdentifyRequest(first[0], second[1])
        await submit(request)


async def _delete_all_scratch(driver: AsyncDriver, database: str, prefix: str) -> None:
    await _delete_scratch(driver, database, prefix, 2**62)
    await _delete_scratch(driver, database, _SCRATCH, int(time.time()) - ABANDONED_AFTER)


def _next_window(last_read: float, now: float) -> bool:
    """Windows on the wall clock, the same for every process: workers and replicas warming up
    side by side read Neo4j's compiler over the same windows, so they stop together (one ready
    long before another would get all the connections a client opens meanwhile). A window
    begun less than half a window ago is not read: too short to say anything."""
    crossed = int(now // JIT_WINDOW) > int(last_read // JIT_WINDOW)
    return crossed and now - last_read >= JIT_WINDOW / 2


async def _read_jit(driver: AsyncDriver, database: str, report: WarmUpReport, at: float) -> None:
    try:
        records, _, _ = await driver.execute_query(
            cypher.JIT_COMPILATION_MILLISECONDS, database_=database, routing_="r"
        )
    except ClientError:
        return  # not allowed to (a user without admin rights): the rounds' times decide
    report.jit.append((at, int(records[0]["milliseconds"])))
    report.jit_read_at = time.time()


async def _delete_scratch(driver: AsyncDriver, database: str, prefix: str, before: int) -> None:
    async with driver.session(database=database) as session:
        for statement in (
            cypher.DELETE_WARM_UP_EMAILS,
            cypher.DELETE_WARM_UP_PHONES,
            cypher.DELETE_WARM_UP_SEQUENCES,
        ):
            deleted = 1
            while deleted:
                deleted = await session.execute_write(_delete_some, statement, prefix, before)


async def _delete_some(
    tx: AsyncManagedTransaction, statement: LiteralString, prefix: str, before: int
) -> int:
    record = await (await tx.run(statement, prefix=prefix, before=before)).single(strict=True)
    deleted: int = record["deleted"]
    return deleted
