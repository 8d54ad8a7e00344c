"""`make soak`: many HTTP clients against a real service and Neo4j, with optional crashes; then
every acknowledged request is checked against the graph, and the graph against the invariants."""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, LiteralString

import httpx

from graphdb.consistency import check_graph
from graphdb.driver import create_driver
from graphdb.local.server import LocalNeo4j, LocalNeo4jConfig, free_port
from tests.support.service import Service, start_all, stop_all

# Acknowledged (email, phone) pairs, each with the primary it was told, checked in one statement.
UNREFLECTED: LiteralString = """
UNWIND $acks AS ack
MATCH (member:Contact {id: ack.primary})
OPTIONAL MATCH (member)-[:LINKED_TO]->(linked:Contact)
WITH ack, coalesce(linked, member) AS primary
WITH ack, primary,
     [primary] + COLLECT { MATCH (s:Contact)-[:LINKED_TO]->(primary) RETURN s } AS cluster
WHERE (ack.email IS NOT NULL AND NOT ack.email IN [c IN cluster | c.email])
   OR (ack.phone IS NOT NULL AND NOT ack.phone IN [c IN cluster | c.phoneNumber])
RETURN count(ack) AS unreflected
"""


HEALTHY_TAIL = 5.0
# Pinned for the service under test, whatever .env says: the fault test's bounds rest on them.
REQUEST_TIMEOUT = 10.0
RETRY_TIME = 3.0


@dataclass
class Tally:
    requests: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    acks: list[dict[str, Any]] = field(default_factory=list)
    primaries_seen: set[int] = field(default_factory=set)
    merges_seen: int = 0
    unavailable_seconds: list[float] = field(default_factory=list)
    ack_times: list[float] = field(default_factory=list)

    def record(self, body: dict[str, Any], answer: dict[str, Any]) -> None:
        self.acks.append(
            {"email": body.get("email"), "phone": body.get("phoneNumber"),
             "primary": answer["primaryContatctId"]}
        )  # fmt: skip
        self.primaries_seen.add(answer["primaryContatctId"])
        # A contact once seen as a primary and now a secondary was merged into another cluster.
        demoted = self.primaries_seen.intersection(answer["secondaryContactIds"])
        self.merges_seen += len(demoted)
        self.primaries_seen -= demoted


def _body(rng: random.Random, generation: int, pool: int) -> dict[str, Any]:
    # A new generation of identifiers every few seconds: fresh customers keep appearing, and
    # with only `pool` values per kind their clusters keep merging.
    email = f"g{generation}.u{rng.randrange(pool)}@soak.example"
    phone = f"{generation:04d}{rng.randrange(pool):04d}"
    shape = rng.random()
    if shape < 0.5:
        return {"email": email, "phoneNumber": phone}
    return {"email": email} if shape < 0.75 else {"phoneNumber": phone}


@dataclass(frozen=True)
class _Plan:
    # The services' URLs: client n talks to the (n mod count)th.
    urls: tuple[str, ...]
    started: float
    pool: int
    stop: asyncio.Event


async def _client(plan: _Plan, seed: int, tally: Tally) -> None:
    rng = random.Random(seed)  # noqa: S311 - load shapes, not secrets
    url = plan.urls[seed % len(plan.urls)]
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        while not plan.stop.is_set():
            body = _body(rng, int((time.monotonic() - plan.started) / 5), plan.pool)
            tally.requests += 1
            sent = time.monotonic()
            try:
                response = await client.post("/identify", json=body)
            except httpx.TransportError as error:
                tally.statuses[type(error).__name__] += 1
                await asyncio.sleep(0.05)  # the service is down: do not spin
                continue
            tally.statuses[str(response.status_code)] += 1
            if response.status_code == 200:
                tally.record(body, response.json()["contact"])
                tally.ack_times.append(time.monotonic() - plan.started)
            elif response.status_code == 503:
                tally.unavailable_seconds.append(time.monotonic() - sent)
                # As a polite client does: wait as told (Retry-After), here at most a second.
                await asyncio.sleep(min(1.0, float(response.headers.get("retry-after", 1))))


@dataclass(frozen=True)
class Event:
    at: float
    what: str


async def _recovered(tally: Tally, since: float, limit: float = 60) -> None:
    """Waits for a 2xx answered after `since`, so that each recovery shows before the next fault."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and max(tally.ack_times, default=0.0) <= since:  # noqa: ASYNC110
        await asyncio.sleep(0.1)


async def _faults(
    neo4j: LocalNeo4j,
    services: list[Service],
    args: argparse.Namespace,
    started: float,
    tally: Tally,
) -> list[Event]:
    events: list[Event] = []
    kills = ["neo4j"] * args.kill_neo4j + ["service"] * args.kill_service
    for index, target in enumerate(kills):
        # Evenly spread over the first 80% of the run, so the last stretch runs healthy.
        moment = started + args.seconds * 0.8 * (index + 1) / (len(kills) + 1)
        if events:
            await _recovered(tally, events[-1].at)
        await asyncio.sleep(max(0.0, moment - time.monotonic()))
        if target == "neo4j":
            neo4j.kill()
            events.append(Event(time.monotonic() - started, "SIGKILL Neo4j"))
            await asyncio.sleep(2)
            await asyncio.to_thread(neo4j.start)
            events.append(Event(time.monotonic() - started, "Neo4j back"))
        else:
            # The first one: with several, the others go on answering meanwhile.
            services[0].kill()
            events.append(Event(time.monotonic() - started, "SIGKILL service"))
            await asyncio.to_thread(services[0].start)
            events.append(Event(time.monotonic() - started, "service back"))
    return events


@dataclass
class SoakResult:
    tally: Tally
    events: list[Event]
    violations: list[str]
    unreflected: int
    services: int
    workers: int

    @property
    def passed(self) -> bool:
        server_errors = [s for s in self.tally.statuses if s.startswith("5") and s != "503"]
        return not self.violations and not self.unreflected and not server_errors


async def soak(args: argparse.Namespace, neo4j: LocalNeo4j, log: Path) -> SoakResult:
    connection = neo4j.connection
    settings = {
        "WORKERS": str(args.workers),
        "REQUEST_TIMEOUT": str(REQUEST_TIMEOUT),
        "NEO4J_RETRY_TIME": str(RETRY_TIME),
        # No warm-up: a restarted service must be ready at once for the fault test's bounds.
        "WARM_UP_SECONDS": "0",
    }
    # Separate processes on the one Neo4j, sharing nothing but it (and one log file).
    services = [Service(connection, log, settings) for _ in range(args.services)]
    await start_all(services)
    tally = Tally()
    started = time.monotonic()
    plan = _Plan(tuple(s.url for s in services), started, args.pool, asyncio.Event())

    async def run_faults_then_stop() -> list[Event]:
        events = await _faults(neo4j, services, args, started, tally)
        # The full duration, and in any case a healthy stretch after the last recovery.
        remaining = started + args.seconds - time.monotonic()
        await asyncio.sleep(max(remaining, HEALTHY_TAIL if events else 0.0))
        plan.stop.set()
        return events

    try:
        faults = asyncio.create_task(run_faults_then_stop())
        await asyncio.gather(*(_client(plan, seed, tally) for seed in range(args.clients)))
        events = await faults
    finally:
        stop_all(services)
    async with create_driver(connection, retry_time=30) as driver:
        violations = await check_graph(driver, connection.database)
        records, _, _ = await driver.execute_query(
            UNREFLECTED, acks=tally.acks, database_=connection.database
        )
    unreflected = records[0]["unreflected"]
    return SoakResult(tally, events, violations, unreflected, args.services, args.workers)


def _first_ack_after(event: Event, tally: Tally) -> str:
    if not event.what.endswith("back"):
        return ""
    later = [at for at in tally.ack_times if at > event.at]
    return f" (first 2xx {min(later) - event.at:.1f}s later)" if later else " (no 2xx after)"


def _percentiles(seconds: list[float]) -> str:
    if not seconds:
        return "none"
    ordered = sorted(seconds)
    at = [ordered[min(len(ordered) - 1, int(len(ordered) * q))] for q in (0.5, 0.99)]
    return f"p50 {at[0]:.3f}s, p99 {at[1]:.3f}s, max {ordered[-1]:.3f}s"


def report(result: SoakResult, seconds: float) -> str:
    tally = result.tally
    statuses = ", ".join(f"{status}: {n}" for status, n in sorted(tally.statuses.items()))
    return "\n".join(
        [
            *(
                f"{event.at:6.1f}s {event.what}{_first_ack_after(event, tally)}"
                for event in result.events
            ),
            f"services      {result.services}, WORKERS={result.workers} each",
            f"requests      {tally.requests} in {seconds:.0f}s",
            f"acknowledged  {len(tally.acks)}",
            f"by status     {statuses}",
            f"merges seen   {tally.merges_seen}",
            f"503 answered  {_percentiles(tally.unavailable_seconds)}",
            f"last 2xx at   {max(tally.ack_times, default=0):.1f}s",
            f"unreflected   {result.unreflected}",
            f"violations    {len(result.violations)}",
            *result.violations[:20],
            "PASS" if result.passed else "FAIL",
        ]
    )


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--seconds", type=float, default=float(os.environ.get("SOAK_SECONDS", "120"))
    )
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--pool", type=int, default=12, help="emails and phones per generation")
    parser.add_argument("--kill-neo4j", type=int, default=0, help="SIGKILL Neo4j this many times")
    parser.add_argument(
        "--kill-service", type=int, default=0, help="SIGKILL the (first) service this often"
    )
    parser.add_argument("--workers", type=int, default=1, help="WORKERS of each service")
    parser.add_argument(
        "--services", type=int, default=1, help="service processes on the one Neo4j"
    )
    args = parser.parse_args(argv)
    if args.services < 1 or args.workers < 1:
        parser.error("--services and --workers take a positive number")
    return args


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    with tempfile.TemporaryDirectory(prefix="soak-") as scratch:
        home = Path(scratch)
        neo4j = LocalNeo4j(LocalNeo4jConfig(home / "neo4j", free_port(), free_port()))
        neo4j.start()
        try:
            result = asyncio.run(soak(args, neo4j, home / "service.log"))
        finally:
            neo4j.stop()
        print(report(result, args.seconds))
        kept = Path(tempfile.gettempdir()) / f"soak-service-{os.getpid()}.log"
        shutil.copy(home / "service.log", kept)
        print(f"service log: {kept}")
    return 0 if result.passed else 1


if __name__ == "__main__":
    sys.exit(main())
