"""The driver-only ceiling: the service's repository driven with no HTTP, in a process of its own.

`python -m bench.ceiling BODIES SECONDS CONCURRENCY` replays the REST bodies of a file through
ContactRepository.identify (the function the service calls, built from the same settings and
environment) as fast as CONCURRENCY callers can, and prints one JSON line like wrk_replay.lua's.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

import uvloop

from bench.workloads import Sighting, read_sightings
from graphdb.errors import DatabaseUnavailable
from resolvers.connection import build_repository, configured_connection
from resolvers.settings import Settings


def _percentile(ordered: list[float], share: float) -> float:
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def replay(sightings: list[Sighting], seconds: float, concurrency: int) -> dict[str, float]:
    settings = Settings.from_environment()
    connection = configured_connection(settings)
    if connection is None:
        raise SystemExit("NEO4J_URI must point at the benchmark's Neo4j")
    driver, repository = build_repository(settings, connection)
    await repository.prepare()
    latencies: list[float] = []
    errors = 0
    cursor = 0
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
    latencies.sort()
    return {
        "requests": len(latencies),
        "duration_us": elapsed * 1e6,
        "status_errors": errors,
        **{
            f"p{int(share * 100)}_us": _percentile(latencies, share) * 1e6
            for share in (0.50, 0.95, 0.99)
        },
        "max_us": latencies[-1] * 1e6 if latencies else 0.0,
    }


def main(argv: list[str]) -> int:
    bodies, seconds, concurrency = Path(argv[0]), float(argv[1]), int(argv[2])
    sightings = read_sightings(bodies)
    # The event loop uvicorn itself runs on, so the comparison is like for like.
    result = uvloop.run(replay(sightings, seconds, concurrency))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
