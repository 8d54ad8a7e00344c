"""The driver-only ceiling: the service's repository driven with no HTTP, in processes of its own.

`python -m bench.ceiling BODIES SECONDS CONCURRENCY PART PARTS START_AT` replays every
PARTS-th REST body of a file, from PART on, through ContactRepository.identify (the function the
service calls, built from the same settings and environment) as fast as CONCURRENCY callers can,
from the wall-clock time START_AT on, and prints one JSON line with every latency. The bench
runs as many parts as the service has workers, all starting together.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

import uvloop

from bench.workloads import Sighting, read_sightings
from graphdb.errors import DatabaseUnavailable
from graphdb.events import NoEvents
from resolvers.runtime.settings import Settings
from resolvers.runtime.wiring import build_repository, configured_connection


class BatchSizes(NoEvents):
    """Counts what each identify transaction committed, as the service's metrics do."""

    def __init__(self) -> None:
        self.requests = 0
        self.transactions = 0

    def batch_committed(self, size: int) -> None:
        self.requests += size
        self.transactions += 1


async def replay(
    sightings: list[Sighting], seconds: float, concurrency: int, start_at: float
) -> dict[str, Any]:
    settings = Settings.from_environment()
    connection = configured_connection(settings)
    if connection is None:
        raise SystemExit("NEO4J_URI must point at the benchmark's Neo4j")
    batches = BatchSizes()
    driver, repository = build_repository(settings, connection, batches)
    await repository.prepare()
    latencies: list[float] = []
    errors = 0
    cursor = 0
    # Every part starts at the same wall-clock moment, after its imports and preparation, so
    # their measured windows coincide.
    await asyncio.sleep(max(0.0, start_at - time.time()))
    deadline = time.perf_counter() + seconds

    async def caller() -> None:
        nonlocal cursor, errors
        while time.perf_counter() < deadline:
            email, phone = sightings[cursor % len(sightings)]
            cursor += 1
            started = time.perf_counter()
            try:
                await repository.identify(email, phone)
            except DatabaseUnavailable:
                errors += 1
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    try:
        await asyncio.gather(*(caller() for _ in range(concurrency)))
    finally:
        elapsed = time.perf_counter() - started
        await repository.close()
        await driver.close()
    return {
        "duration_us": elapsed * 1e6,
        "status_errors": errors,
        "batch_requests": batches.requests,
        "batch_transactions": batches.transactions,
        "latencies_us": [round(latency * 1e6) for latency in latencies],
    }


def main(argv: list[str]) -> int:
    bodies, seconds, concurrency = Path(argv[0]), float(argv[1]), int(argv[2])
    part, parts, start_at = int(argv[3]), int(argv[4]), float(argv[5])
    sightings = read_sightings(bodies)[part::parts]
    # The event loop uvicorn itself runs on, so the comparison is like for like.
    result = uvloop.run(replay(sightings, seconds, concurrency, start_at))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
