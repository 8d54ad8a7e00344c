"""`make bench`: a fresh Neo4j and service, seeded, then driven over loopback by wrk.

Runs, in order: the mix over REST, GraphQL and the driver alone (the ceiling) on a small seeded
database; the database grown to a large one with the same bulk loader and the mix again, then
each pure workload; finally one big cluster. Prints a table and the issue's targets, and writes
both as JSON under bench/results/.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from neo4j.time import DateTime

from bench.cpu import cpu_seconds
from bench.plans import profile
from bench.profile import sampler, summarize
from bench.results import RESULTS_DIR, Row, table, targets, targets_text, write_json
from bench.seed import CONTACTS_PER_CUSTOMER, seed_big_cluster, seed_customers
from bench.service import Service
from bench.workloads import Population, Sighting, graphql_body, rest_body, sightings, write_bodies
from graphdb.driver import Neo4jConnection, create_driver, ensure_constraints
from graphdb.local_server import LocalNeo4j, LocalNeo4jConfig, free_port

T = TypeVar("T")
LUA = Path(__file__).resolve().parent / "wrk_replay.lua"
WRK_THREADS = 2
# Long enough for each driver-only process to import and prepare before the common start.
CEILING_START_DELAY = 8.0
# Bodies written per run: more than any run here sends at the rates seen, so none repeats.
BODIES_PER_SECOND = 4_000
# Zoned like the times the service stores (UTC), so seeded and served contacts order together.
SEEDED_AT = DateTime(2020, 1, 1, 0, 0, 0, tzinfo=UTC)
PURE_WORKLOADS = ("new", "returning", "new_info", "merge")


@dataclass
class Bench:
    args: argparse.Namespace
    service: Service
    neo4j_pid: int
    scratch: Path
    population: Population
    contacts: int = 0
    runs: int = 0
    db_hits: dict[str, dict[str, int]] = field(default_factory=dict)

    def measure(self, workload: str, api: str, concurrency: int, seconds: float) -> Row:
        self.runs += 1
        bodies = self.scratch / f"{self.runs}-{workload}-{api}.jsonl"
        render: Callable[[Sighting], str] = graphql_body if api == "graphql" else rest_body
        shortfall = self.population.merge_shortfall
        write_bodies(
            bodies,
            sightings(workload, self.population, self.runs),
            int(seconds * BODIES_PER_SECOND),
            render,
        )
        if self.population.merge_shortfall > shortfall:
            print(
                f"warning: {self.population.merge_shortfall - shortfall:,} of the {workload} bodies"
                " are new customers: too few seeded clusters left to merge (seed more: --large)",
                flush=True,
            )
        before = self._cpu()
        if api == "driver":
            raw = self._ceiling(bodies, concurrency, seconds)
        else:
            path = "/graphql" if api == "graphql" else "/identify"
            raw = _wrk(self.service.url + path, bodies, concurrency, seconds)
        after = self._cpu()
        neo4j, service, children = (now - then for now, then in zip(after, before, strict=True))
        # The driver-only process is the service of its run; wrk is the load of the others.
        used = (neo4j, children, 0.0) if api == "driver" else (neo4j, service, children)
        return Row.from_measurement(
            workload, api, self.contacts, concurrency, raw, cpu_seconds=used
        )

    def _cpu(self) -> tuple[float, float, float]:
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return (
            cpu_seconds(self.neo4j_pid),
            cpu_seconds(self.service.pid),
            children.ru_utime + children.ru_stime,
        )

    def _ceiling(self, bodies: Path, concurrency: int, seconds: float) -> dict[str, Any]:
        # As many processes as the service has workers, sharing the concurrency: the ceiling of
        # the same deployment, minus HTTP.
        parts = max(1, int(self.service.env.get("WORKERS", "1")))
        start_at = str(time.time() + CEILING_START_DELAY)
        processes = []
        for part in range(parts):
            callers = concurrency // parts + (part < concurrency % parts)
            arguments = [str(bodies), str(seconds), str(callers), str(part), str(parts), start_at]
            output = self.scratch / f"ceiling-{self.runs}-{part}"
            processes.append(self._start(["bench.ceiling", *arguments], output))
        outputs = []
        for process, output in processes:
            if process.wait(timeout=CEILING_START_DELAY + seconds + 120) != 0:
                raise RuntimeError(f"the driver-only run failed: see {output}.err")
            lines = output.with_suffix(".out").read_text().strip().splitlines()
            outputs.append(json.loads(lines[-1]))
        latencies = sorted(us for output in outputs for us in output["latencies_us"])
        return {
            "requests": len(latencies),
            "duration_us": max(output["duration_us"] for output in outputs),
            "status_errors": sum(output["status_errors"] for output in outputs),
            **{f"p{share}_us": _percentile(latencies, share / 100) for share in (50, 95, 99)},
            "max_us": latencies[-1] if latencies else 0,
        }

    def _start(
        self, module_and_args: list[str], output: Path
    ) -> tuple[subprocess.Popen[bytes], Path]:
        # Output to files: a pipe nobody reads until the end could stall a process mid-run.
        with (
            output.with_suffix(".out").open("wb") as out,
            output.with_suffix(".err").open("wb") as err,
        ):
            process = subprocess.Popen(  # noqa: S603
                [sys.executable, "-m", *module_and_args],
                env=self.service.env,
                stdout=out,
                stderr=err,
            )
        return process, output

    def warm_up(self) -> None:
        # Plans, the JIT and the page cache settle before anything is recorded. The first API is
        # warmed again last: a fresh Neo4j's JIT was seen still settling after one round, which
        # cost the first recorded run (always REST) up to half its rate.
        for api in [*self.args.mix_apis, *self.args.mix_apis[:1]]:
            self.measure("mix", api, self.args.concurrency, self.args.warm_up)

    def profile(self, api: str) -> Path:
        """The mix again with py-spy sampling the service: collapsed stacks, for flame graphs."""
        out = RESULTS_DIR / f"profile-{api}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.txt"
        running = sampler(self.service.pid, self.args.seconds, out)
        self.run("mix", api)
        running.wait(timeout=self.args.seconds + 30)
        print(summarize(out), flush=True)
        return out

    def run(self, workload: str, api: str, concurrency: int | None = None) -> Row:
        row = self.measure(workload, api, concurrency or self.args.concurrency, self.args.seconds)
        print(table([row]).splitlines()[-1], flush=True)
        return row


def _percentile(ordered: list[int], share: float) -> int:
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0


def _wrk(url: str, bodies: Path, concurrency: int, seconds: float) -> dict[str, Any]:
    threads = min(WRK_THREADS, concurrency)  # wrk wants a connection per thread at least
    command = [
        "wrk", f"-t{threads}", f"-c{concurrency}", f"-d{round(seconds)}s", "--timeout", "15s",
        "-s", str(LUA), url, "--", str(bodies), str(threads),
    ]  # fmt: skip
    completed = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    last = completed.stdout.strip().splitlines()[-1] if completed.stdout.strip() else ""
    if completed.returncode != 0 or not last.startswith("{"):
        raise RuntimeError(f"wrk failed: {completed.stdout[-2000:]}{completed.stderr[-2000:]}")
    parsed: dict[str, Any] = json.loads(last)
    return parsed


def _with_driver(connection: Neo4jConnection, work: Callable[..., Awaitable[T]], *args: Any) -> T:
    async def go() -> T:
        driver = create_driver(connection)
        try:
            return await work(driver, connection.database, *args)
        finally:
            await driver.close()

    return asyncio.run(go())


def _grow(bench: Bench, connection: Neo4jConnection, customers: int) -> None:
    first = bench.population.customers
    report = _with_driver(connection, seed_customers, first, customers, SEEDED_AT)
    bench.population.customers = customers
    bench.contacts += report.contacts
    print(
        f"seeded {report.contacts:,} contacts in {report.seconds:.1f} s "
        f"({report.rate:,.0f}/s); the database now holds about {bench.contacts:,}",
        flush=True,
    )
    hits = _with_driver(connection, profile, customers // 4)
    bench.db_hits[f"{bench.contacts} contacts"] = hits
    print(f"PROFILE of the locking statement, database hits: {hits}", flush=True)


def benchmark(
    args: argparse.Namespace, neo4j: LocalNeo4j, scratch: Path
) -> tuple[list[Row], dict[str, dict[str, int]]]:
    connection = neo4j.connection
    # Logging as the service logs by default: one JSON line per request, to a file.
    service = Service(
        connection,
        scratch / "service.log",
        {"LOG_LEVEL": "info"},
        args.uvicorn.split() if args.uvicorn is not None else None,
    )
    neo4j_pid = int(neo4j.pid_file.read_text())
    bench = Bench(args, service, neo4j_pid, scratch, Population(customers=0))
    # The seeding's CREATEs rely on the uniqueness constraints; made once, before anything else.
    _with_driver(connection, ensure_constraints)
    _grow(bench, connection, args.small // CONTACTS_PER_CUSTOMER)
    service.start()
    rows: list[Row] = []
    try:
        bench.warm_up()
        rows += [bench.run("mix", api) for api in args.mix_apis]
        if args.profile:
            for api in ("rest", "graphql"):
                print(f"profile of the service: {bench.profile(api)}", flush=True)
        if args.large:
            _grow(bench, connection, args.large // CONTACTS_PER_CUSTOMER)
            bench.warm_up()
            rows += [bench.run("mix", api) for api in args.mix_apis]
        rows += [bench.run(workload, "rest") for workload in args.pure]
        if args.big_cluster:
            report = _with_driver(connection, seed_big_cluster, args.big_cluster, SEEDED_AT)
            bench.population.big_cluster_size = args.big_cluster
            bench.contacts += report.contacts
            print(f"seeded a cluster of {report.contacts:,} contacts", flush=True)
            for workload in ("big_nothing_new", "big_new_info"):
                rows.append(bench.run(workload, "rest", args.big_cluster_concurrency))
    finally:
        service.stop()
    return rows, bench.db_hits


def _names(text: str) -> list[str]:
    return [name for name in text.split(",") if name]


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("BENCH_SECONDS", "15")))
    # Neo4j's JIT keeps improving for a while after start: without a long warm-up the first run
    # recorded pays for it.
    parser.add_argument("--warm-up", type=int, default=15, help="seconds per API, not recorded")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--small", type=int, default=10_000, help="contacts seeded first")
    parser.add_argument("--large", type=int, default=1_000_000, help="contacts; 0 skips it")
    parser.add_argument("--big-cluster", type=int, default=10_000, help="contacts; 0 skips it")
    # Requests on one cluster queue on its phone in any case: one at a time shows what each costs.
    parser.add_argument("--big-cluster-concurrency", type=int, default=1)
    parser.add_argument(
        "--mix-apis", type=_names, default=["rest", "graphql", "driver"], help="comma-separated"
    )
    parser.add_argument(
        "--pure", type=_names, default=list(PURE_WORKLOADS), help="pure workloads to run"
    )
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
    if shutil.which("wrk") is None:
        print("wrk is missing; `make bench` installs it (Debian's wrk)", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="bench-") as folder:
        scratch = Path(folder)
        config = LocalNeo4jConfig(
            scratch / "neo4j", free_port(), free_port(), heap=args.heap, page_cache=args.page_cache
        )
        with LocalNeo4j(config) as neo4j:
            rows, bench_db_hits = benchmark(args, neo4j, scratch)
    found = targets(rows, args.small, args.large or None)
    print()
    print(table(rows))
    print()
    print("Targets (issue 4):")
    print(targets_text(found))
    settings = {key: value for key, value in vars(args).items() if not key.startswith("_")} | {
        "WORKERS": os.environ.get("WORKERS", "1")
    }
    written = write_json(rows, found, settings, {"db_hits": bench_db_hits})
    print(f"\nwritten to {written}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
