"""`make bench-quick`: the regression guard for changes on the request path, in a few minutes.

A fresh Neo4j seeded with 10,000 contacts, the service as a new user runs it (the shipped
defaults: `WORKERS` as it ships, the ledger and the identity-quality rules on) with API keys
required and one key sent by wrk, then: the mix over REST and GraphQL, new people over REST and
GraphQL, returning people over REST, and new people from one client. Writes its JSON beside the
run of record (bench/results/quick-*.json) and prints each figure against the last quick run
recorded there, as a ratio: above 1 is better for req/s, below 1 is better for latency and CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench.harness import Bench, make_key, scratch_neo4j, wrk_installed
from bench.results import ONE_CLIENT, RESULTS_DIR, Row, table, write_json
from bench.seed import CONTACTS_PER_CUSTOMER, SEEDED_AT, seed_customers, with_driver
from bench.workloads import Population
from graphdb.driver import ensure_constraints
from graphdb.local.server import LocalNeo4j
from tests.support.service import Service

PREFIX = "quick-"
CONTACTS = 10_000
# (workload, api, concurrency, row name): what the guard watches.
RUNS = (
    ("mix", "rest", 32, "mix"),
    ("mix", "graphql", 32, "mix"),
    ("new", "rest", 32, "new"),
    ("new", "graphql", 32, "new"),
    ("returning", "rest", 32, "returning"),
    ("new", "rest", 1, ONE_CLIENT),
)
# Figures compared with the last run: more is better for the rate, less for the others.
FIGURES = ("rate", "p99_ms", "neo4j_cpu_ms", "service_cpu_ms")


def run_quick(args: argparse.Namespace, neo4j: LocalNeo4j, scratch: Path) -> list[Row]:
    connection = neo4j.connection
    with_driver(connection, ensure_constraints)
    with_driver(connection, seed_customers, 0, CONTACTS // CONTACTS_PER_CUSTOMER, SEEDED_AT)
    key = asyncio.run(make_key(connection))
    # The shipped defaults, but for what a bench must set: keys required although on loopback,
    # and the access log written to a file as a deployment would.
    settings = {"AUTH": "required", "LOG_LEVEL": "info", **dict(args.env)}
    service = Service(connection, scratch / "service.log", settings)
    bench = Bench(
        args, service, int(neo4j.pid_file.read_text()), scratch, Population(CONTACTS // 2)
    )
    bench.contacts = CONTACTS
    bench.api_key = key
    rows = []
    service.start()
    try:
        for api in ("rest", "graphql"):
            bench.measure("mix", api, 32, args.warm_up)
        for workload, api, concurrency, name in RUNS:
            rows.append(bench.run(workload, api, concurrency, name=name))
    finally:
        service.stop()
    return rows


def _key(row: dict[str, Any]) -> tuple[str, str, int]:
    return (row["workload"], row["api"], row["concurrency"])


def previous_run(before: Path | None = None) -> dict[str, Any] | None:
    """The last quick run recorded, other than `before`."""
    runs = sorted(path for path in RESULTS_DIR.glob(f"{PREFIX}*.json") if path != before)
    return json.loads(runs[-1].read_text()) if runs else None


def ratios(rows: list[Row], previous: dict[str, Any]) -> str:
    earlier = {_key(row): row for row in previous["rows"]}
    lines = [f"against {previous['at']} (now / then):"]
    for row in rows:
        then = earlier.get((row.workload, row.api, row.concurrency))
        if then is None:
            continue
        now = asdict(row) | {"rate": row.rate}
        then = then | {"rate": then["req_per_s"]}
        parts = [f"{name} {now[name] / then[name]:.2f}x" for name in FIGURES if then.get(name)]
        label = f"  {row.workload:<16} {row.api:<8} c={row.concurrency:<3} "
        lines.append(label + "  ".join(parts))
    return "\n".join(lines)


def _env(text: str) -> tuple[str, str]:
    name, _, value = text.partition("=")
    return name, value


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--warm-up", type=int, default=10, help="seconds per API, not recorded")
    parser.add_argument(
        "--env", type=_env, action="append", default=[], help="NAME=VALUE for the service"
    )
    parser.add_argument("--heap", default="1g")
    parser.add_argument("--page-cache", default="1g")
    parsed = parser.parse_args(argv)
    # What bench.harness.Bench reads of the full bench's arguments.
    parsed.mix_apis, parsed.concurrency = ["rest"], 32
    return parsed


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    if not wrk_installed("bench-quick"):
        return 1
    with scratch_neo4j(args, "bench-quick-") as (neo4j, scratch):
        rows = run_quick(args, neo4j, scratch)
    print()
    print(table(rows))
    written = write_json(rows, [], args, {}, prefix=PREFIX)
    previous = previous_run(before=written)
    print()
    print(ratios(rows, previous) if previous is not None else "no earlier quick run to compare")
    print(f"\nwritten to {written}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
