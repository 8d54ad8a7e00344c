"""`make bench`: a fresh Neo4j and service, seeded, then driven over loopback by wrk.

The service runs as it ships (`WORKERS` and every other setting at its default, the ledger and
the identity-quality rules on), with API keys required and wrk sending one. Runs, in order, on
a small seeded database: the mix right after a cold start (Neo4j restarted, the service started
and warmed up, traffic the moment /readyz says ready); the mix over REST, GraphQL and the driver
alone (the ceiling); new people and returning people; new people from one client; the same new
and returning people against a peer implementation when one is given (bench.peer); the mix
with other deployments (IDENTIFY_BATCH_MAX, WORKERS). Then the database grown with the same
bulk loader to a large one: the mix again, new details, merges; one big cluster; and the CSV
import of generated orders. Prints a table and the targets, and writes both as JSON under
bench/results/.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path
from typing import Any

from bench.harness import Bench, make_key, scratch_neo4j, wrk_installed
from bench.importing import import_orders
from bench.peer import seed_peer
from bench.plans import profile
from bench.results import COLD_START, ONE_CLIENT, Row, table, targets, targets_text, write_json
from bench.seed import (
    CONTACTS_PER_CUSTOMER,
    SEEDED_AT,
    seed_big_cluster,
    seed_customers,
    with_driver,
)
from bench.workloads import Population
from graphdb.driver import Neo4jConnection, ensure_constraints
from graphdb.local.server import LocalNeo4j
from tests.support.service import Service

PURE_SMALL = ("new", "returning")
PURE_LARGE = ("new_info", "merge")
# What a cold start is judged by: its first seconds of traffic, against a warm run.
COLD_SECONDS = 10


def _grow(bench: Bench, connection: Neo4jConnection, customers: int) -> None:
    first = bench.population.customers
    report = with_driver(connection, seed_customers, first, customers, SEEDED_AT)
    bench.population.customers = customers
    bench.contacts += report.contacts
    print(
        f"seeded {report.contacts:,} contacts in {report.seconds:.1f} s "
        f"({report.rate:,.0f}/s); the database now holds about {bench.contacts:,}",
        flush=True,
    )
    hits = with_driver(connection, profile, customers // 4)
    bench.db_hits[f"{bench.contacts} contacts"] = hits
    print(f"PROFILE of the locking statement, database hits: {hits}", flush=True)


def _cold_start(bench: Bench, neo4j: LocalNeo4j) -> Row:
    """Neo4j restarted on the seeded store, the service started (it warms Neo4j up before it
    says ready), then the mix the moment /readyz answers 200."""
    neo4j.stop()
    neo4j.start()
    bench.neo4j_pid = int(neo4j.pid_file.read_text())
    bench.service.start()
    for line in bench.service.log.read_text().splitlines():
        if "warmed up" in line or "Warming Neo4j up stopped" in line:
            print(line, flush=True)
    return bench.run("mix", "rest", name=COLD_START, seconds=COLD_SECONDS)


def _deployments(bench: Bench, configs: list[tuple[int, int]]) -> list[Row]:
    """The mix with other WORKERS and IDENTIFY_BATCH_MAX, then the main deployment back."""
    keys = ("WORKERS", "IDENTIFY_BATCH_MAX")
    main = {key: bench.service.env.get(key) for key in keys}
    rows = []
    for workers, batch_max in configs:
        # Neo4j is warm by now: no warm-up of its own, a short one for the new processes.
        bench.service.restart(
            {"WORKERS": str(workers), "IDENTIFY_BATCH_MAX": str(batch_max), "WARM_UP_SECONDS": "0"}
        )
        bench.measure("mix", "rest", bench.args.concurrency, 5)
        rows.append(bench.run("mix", "rest"))
    if configs:
        # Back to the main deployment: what it set, and the shipped default for what it did not.
        for key, value in main.items():
            if value is None:
                bench.service.env.pop(key, None)
        bench.service.restart({key: value for key, value in main.items() if value is not None})
        bench.measure("mix", "rest", bench.args.concurrency, 5)
    return rows


def _race_peer(bench: Bench, url: str, customers: int) -> list[Row]:
    """New and returning people against the peer, right after the service's own runs."""
    print(f"seeding the peer at {url} with {customers:,} customers", flush=True)
    seed_peer(url, customers)
    bench.measure_peer("new", url, 5)  # its JIT and pool warm up too
    return [bench.measure_peer(workload, url, bench.args.seconds) for workload in PURE_SMALL]


def benchmark(
    args: argparse.Namespace, neo4j: LocalNeo4j, scratch: Path
) -> tuple[list[Row], dict[str, Any]]:
    connection = neo4j.connection
    # As it ships, but for keys required on loopback too, and logging as the service logs by
    # default: one JSON line per request, to a file.
    settings = {"AUTH": "required", "LOG_LEVEL": "info"}
    if args.workers is not None:
        settings["WORKERS"] = str(args.workers)
    uvicorn = args.uvicorn.split() if args.uvicorn is not None else None
    service = Service(connection, scratch / "service.log", settings, uvicorn)
    neo4j_pid = int(neo4j.pid_file.read_text())
    bench = Bench(args, service, neo4j_pid, scratch, Population(customers=0))
    # The seeding's CREATEs rely on the uniqueness constraints; made once, before anything else.
    with_driver(connection, ensure_constraints)
    bench.api_key = asyncio.run(make_key(connection))
    _grow(bench, connection, args.small // CONTACTS_PER_CUSTOMER)
    rows: list[Row] = []
    extra: dict[str, Any] = {}
    try:
        if args.cold_start:
            rows.append(_cold_start(bench, neo4j))
        else:
            service.start()
        bench.warm_up()
        rows += [bench.run("mix", api) for api in args.mix_apis]
        if args.profile:
            for api in ("rest", "graphql"):
                print(f"profile of the service: {bench.profile(api)}", flush=True)
        rows += [bench.run(workload, "rest") for workload in args.pure if workload in PURE_SMALL]
        if args.one_client:
            rows.append(bench.run("new", "rest", 1, name=ONE_CLIENT))
        if args.peer:
            rows += _race_peer(bench, args.peer, args.small // CONTACTS_PER_CUSTOMER)
        rows += _deployments(bench, args.deployments)
        if args.large:
            _grow(bench, connection, args.large // CONTACTS_PER_CUSTOMER)
            bench.warm_up()
            rows += [bench.run("mix", api) for api in args.mix_apis]
        rows += [bench.run(workload, "rest") for workload in args.pure if workload in PURE_LARGE]
        if args.big_cluster:
            report = with_driver(connection, seed_big_cluster, args.big_cluster, SEEDED_AT)
            bench.population.big_cluster_size = args.big_cluster
            bench.contacts += report.contacts
            print(f"seeded a cluster of {report.contacts:,} contacts", flush=True)
            for workload in ("big_nothing_new", "big_new_info"):
                rows.append(bench.run(workload, "rest", args.big_cluster_concurrency))
    finally:
        service.stop()
    if args.import_rows:
        run = import_orders(scratch, args.import_rows, service.env)
        print(run.output, flush=True)
        extra["import"] = {"rows": run.rows, "seconds": run.seconds, "rate": run.rate}
    extra["db_hits"] = bench.db_hits
    return rows, extra


def _names(text: str) -> list[str]:
    return [name for name in text.split(",") if name]


def _deployment_list(text: str) -> list[tuple[int, int]]:
    """ "2x1,2x8" -> [(2, 1), (2, 8)]: WORKERS x IDENTIFY_BATCH_MAX."""
    pairs = []
    for item in _names(text):
        workers, _, batch_max = item.partition("x")
        pairs.append((int(workers), int(batch_max)))
    return pairs


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("BENCH_SECONDS", "15")))
    # Neo4j's JIT keeps improving for a while after start: without a long warm-up the first run
    # recorded pays for it.
    parser.add_argument("--warm-up", type=int, default=15, help="seconds per API, not recorded")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument(
        "--workers", type=int, default=None, help="WORKERS of the service (default: as shipped)"
    )
    parser.add_argument(
        "--peer",
        default=os.environ.get("BENCH_PEER_URL"),
        help="a peer serving the same POST /identify on loopback, raced on new and returning "
        "people (bench.peer); without one, its recorded figures are the comparison",
    )
    parser.add_argument("--small", type=int, default=10_000, help="contacts seeded first")
    parser.add_argument("--large", type=int, default=1_000_000, help="contacts; 0 skips it")
    parser.add_argument("--big-cluster", type=int, default=10_000, help="contacts; 0 skips it")
    # Requests on one cluster queue on its phone in any case: one at a time shows what each costs.
    parser.add_argument("--big-cluster-concurrency", type=int, default=1)
    parser.add_argument(
        "--mix-apis", type=_names, default=["rest", "graphql", "driver"], help="comma-separated"
    )
    parser.add_argument(
        "--pure",
        type=_names,
        default=[*PURE_SMALL, *PURE_LARGE],
        help="pure workloads to run (new, returning on the small database; new_info, merge on "
        "the large one)",
    )
    parser.add_argument(
        "--deployments",
        type=_deployment_list,
        default=_deployment_list("2x1,2x8,2x64,1x64"),
        help='WORKERSxIDENTIFY_BATCH_MAX pairs to run the mix with, e.g. "2x1,1x64"; "" skips',
    )
    parser.add_argument(
        "--cold-start",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="restart Neo4j after seeding and measure the first seconds after /readyz",
    )
    parser.add_argument(
        "--one-client",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="new people sent by a single client",
    )
    parser.add_argument("--import-rows", type=int, default=100_000, help="CSV rows; 0 skips it")
    parser.add_argument(
        "--profile", action="store_true", help="sample the service with py-spy during a mix run"
    )
    parser.add_argument(
        "--uvicorn", help='run uvicorn with these options instead, e.g. "--loop asyncio --http h11"'
    )
    parser.add_argument("--heap", default="1g")
    parser.add_argument("--page-cache", default="1g")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    if not wrk_installed("bench"):
        return 1
    with scratch_neo4j(args, "bench-") as (neo4j, scratch):
        rows, extra = benchmark(args, neo4j, scratch)
    import_rate = extra["import"]["rate"] if "import" in extra else None
    found = targets(rows, args.small, args.large or None, import_rate)
    print()
    print(table(rows))
    print()
    print("Targets:")
    print(targets_text(found))
    written = write_json(rows, found, args, extra)
    print(f"\nwritten to {written}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
