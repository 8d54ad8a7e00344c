"""`python -m bench.cost_model`: what one transaction costs Neo4j and the driver, whatever it does.

The floor under any identify: trivial transactions (RETURN 1, one small write) driven by 16
concurrent sessions of the async driver, with the CPU time each side used per transaction. It
starts a Neo4j of its own in a scratch folder, as `make bench` does.
"""

from __future__ import annotations

import asyncio
import resource
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import LiteralString

import uvloop
from neo4j import AsyncDriver, AsyncManagedTransaction, AsyncSession

from bench.cpu import cpu_seconds
from graphdb.driver import create_driver, ensure_constraints
from graphdb.local.server import LocalNeo4j, LocalNeo4jConfig, free_port

TRANSACTIONS = 4_000
SESSIONS = 16
_RETURN_ONE: LiteralString = "RETURN 1 AS one"
_LOCK_ONE: LiteralString = (
    "MERGE (e:Email {value: $value}) SET e._lock = true REMOVE e._lock RETURN e.value AS v"
)

Work = Callable[[AsyncSession, int], Awaitable[None]]


async def _read_one(session: AsyncSession, _n: int) -> None:
    async def work(tx: AsyncManagedTransaction) -> None:
        await (await tx.run(_RETURN_ONE)).consume()

    await session.execute_read(work)


async def _write_one(session: AsyncSession, n: int) -> None:
    async def work(tx: AsyncManagedTransaction) -> None:
        await (await tx.run(_LOCK_ONE, value=f"cost-{n}")).consume()

    await session.execute_write(work)


def _write_many(statements: int) -> Work:
    async def write(session: AsyncSession, n: int) -> None:
        async def work(tx: AsyncManagedTransaction) -> None:
            for k in range(statements):
                await (await tx.run(_LOCK_ONE, value=f"cost-{n}-{k}")).consume()

        await session.execute_write(work)

    return write


async def _drive(driver: AsyncDriver, work: Work, count: int) -> None:
    issued = 0

    async def session_loop() -> None:
        nonlocal issued
        async with driver.session(database="neo4j") as session:
            while issued < count:
                issued += 1
                await work(session, issued)

    await asyncio.gather(*(session_loop() for _ in range(SESSIONS)))


async def measure(neo4j_pid: int, driver: AsyncDriver) -> list[str]:
    await ensure_constraints(driver, "neo4j")
    cases: list[tuple[str, Work, int]] = [
        ("read tx, RETURN 1", _read_one, 1),
        ("write tx, one locking MERGE", _write_one, 1),
        ("write tx, 4 locking MERGEs", _write_many(4), 4),
        ("write tx, 16 locking MERGEs", _write_many(16), 16),
    ]
    # Warm-up: plans, and above all the JIT, which keeps improving for tens of seconds.
    for _ in range(4):
        await _drive(driver, _write_one, TRANSACTIONS)
        await _drive(driver, _read_one, TRANSACTIONS)
    lines = [f"{'case':<30}{'tx/s':>8}{'neo4j ms/tx':>13}{'driver ms/tx':>14}{'per statement':>15}"]
    for name, work, statements in cases:
        neo4j_before = cpu_seconds(neo4j_pid)
        own = resource.getrusage(resource.RUSAGE_SELF)
        started = time.perf_counter()
        count = TRANSACTIONS // statements
        await _drive(driver, work, count)
        elapsed = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_SELF)
        driver_ms = 1e3 * (after.ru_utime + after.ru_stime - own.ru_utime - own.ru_stime) / count
        neo4j_ms = 1e3 * (cpu_seconds(neo4j_pid) - neo4j_before) / count
        per_statement = (neo4j_ms + driver_ms) / statements
        lines.append(
            f"{name:<30}{count / elapsed:>8,.0f}{neo4j_ms:>13.2f}{driver_ms:>14.2f}"
            f"{per_statement:>12.2f} ms"
        )
    return lines


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="cost-model-") as scratch:
        config = LocalNeo4jConfig(Path(scratch) / "neo4j", free_port(), free_port())
        with LocalNeo4j(config) as neo4j:

            async def run() -> list[str]:
                driver = create_driver(neo4j.connection)
                try:
                    return await measure(int(neo4j.pid_file.read_text()), driver)
                finally:
                    await driver.close()

            print("\n".join(uvloop.run(run())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
