"""One benchmark run: bodies written, wrk (or the driver-only ceiling) driven, CPU and batches
read before and after, a Row made."""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.cpu import cpu_seconds
from bench.profile import sampler, summarize
from bench.results import RESULTS_DIR, Row, table
from bench.workloads import Population, Sighting, graphql_body, rest_body, sightings, write_bodies
from graphdb.api_keys import ApiKeyStore
from graphdb.driver import Neo4jConnection, create_driver
from graphdb.local.server import LocalNeo4j, LocalNeo4jConfig, free_port
from resolvers.core.access import Scope, key_hash, new_key
from resolvers.runtime.settings import workers_of
from tests.support.service import Service

LUA = Path(__file__).resolve().parent / "wrk_replay.lua"
WRK_THREADS = 2
# Long enough for each driver-only process to import and prepare before the common start.
CEILING_START_DELAY = 8.0
# Bodies written per run: more than any run here sends at the rates seen, so none repeats.
BODIES_PER_SECOND = 6_000


def wrk_installed(target: str) -> bool:
    if shutil.which("wrk") is None:
        print(f"wrk is missing; `make {target}` installs it (Debian's wrk)", file=sys.stderr)
        return False
    return True


@contextmanager
def scratch_neo4j(args: argparse.Namespace, prefix: str) -> Iterator[tuple[LocalNeo4j, Path]]:
    """A Neo4j of the bench's own (`--heap`, `--page-cache`) in a scratch folder, and the
    folder; both gone afterwards."""
    with tempfile.TemporaryDirectory(prefix=prefix) as folder:
        scratch = Path(folder)
        config = LocalNeo4jConfig(
            scratch / "neo4j", free_port(), free_port(), heap=args.heap, page_cache=args.page_cache
        )
        with LocalNeo4j(config) as neo4j:
            yield neo4j, scratch


async def make_key(connection: Neo4jConnection) -> str:
    """A key with every scope the bench needs (identify and read for POST /identify, metrics
    for the batch sizes), and no rate limit to speak of. The constraints must be made."""
    key = new_key()
    async with create_driver(connection) as driver:
        store = ApiKeyStore(driver, connection.database, 10.0)
        scopes = (Scope.IDENTIFY.value, Scope.READ.value, Scope.METRICS.value)
        await store.create("bench", key_hash(key), scopes, 1e6)
    return key


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
    # Sent as `Authorization: Bearer` when the service requires keys (AUTH on).
    api_key: str | None = None

    def measure(
        self,
        workload: str,
        api: str,
        concurrency: int,
        seconds: float,
        name: str | None = None,
    ) -> Row:
        shortfall = self.population.merge_shortfall
        bodies = self._bodies(workload, api, seconds)
        if self.population.merge_shortfall > shortfall:
            print(
                f"warning: {self.population.merge_shortfall - shortfall:,} of the {workload} bodies"
                " are new customers: too few seeded clusters left to merge (seed more: --large)",
                flush=True,
            )
        before = self._cpu()
        batches_before = self.service.batch_totals(self.api_key)
        if api == "driver":
            raw = self._ceiling(bodies, concurrency, seconds)
            batched = (raw["batch_requests"], raw["batch_transactions"])
        else:
            path = "/graphql" if api == "graphql" else "/identify"
            raw = _wrk(self.service.url + path, bodies, concurrency, seconds, self.api_key)
            batches_after = self.service.batch_totals(self.api_key)
            batched = (batches_after[0] - batches_before[0], batches_after[1] - batches_before[1])
        after = self._cpu()
        neo4j, service, children = (now - then for now, then in zip(after, before, strict=True))
        # The driver-only process is the service of its run; wrk is the load of the others.
        used = (neo4j, children, 0.0) if api == "driver" else (neo4j, service, children)
        return Row.from_measurement(
            name or workload, api, self.contacts, concurrency, raw,
            cpu_seconds=used,
            workers=workers_of(self.service.env.get("WORKERS", "auto")),
            batch_max=int(self.service.env.get("IDENTIFY_BATCH_MAX", "64")),
            mean_batch=batched[0] / batched[1] if batched[1] else 0.0,
        )  # fmt: skip

    def measure_peer(self, workload: str, url: str, seconds: float) -> Row:
        """The same workload against the peer (bench.peer) over REST: wrk's figures only, the
        peer's processes being none of ours."""
        bodies = self._bodies(workload, "peer", seconds)
        started = _children_cpu()
        raw = _wrk(url + "/identify", bodies, self.args.concurrency, seconds)
        load = _children_cpu() - started
        row = Row.from_measurement(
            workload, "peer", self.contacts, self.args.concurrency, raw,
            cpu_seconds=(0.0, 0.0, load), workers=0, batch_max=0, mean_batch=0.0,
        )  # fmt: skip
        print(table([row]).splitlines()[-1], flush=True)
        return row

    def _bodies(self, workload: str, api: str, seconds: float) -> Path:
        """The run's request bodies, written ahead: this run's sightings of the workload."""
        self.runs += 1
        bodies = self.scratch / f"{self.runs}-{workload}-{api}.jsonl"
        render: Callable[[Sighting], str] = graphql_body if api == "graphql" else rest_body
        write_bodies(
            bodies,
            sightings(workload, self.population, self.runs),
            int(seconds * BODIES_PER_SECOND),
            render,
        )
        return bodies

    def _cpu(self) -> tuple[float, float, float]:
        return cpu_seconds(self.neo4j_pid), cpu_seconds(self.service.pid), _children_cpu()

    def _ceiling(self, bodies: Path, concurrency: int, seconds: float) -> dict[str, Any]:
        # As many processes as the service has workers, sharing the concurrency: the ceiling of
        # the same deployment, minus HTTP.
        parts = workers_of(self.service.env.get("WORKERS", "auto"))
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
            "batch_requests": sum(output["batch_requests"] for output in outputs),
            "batch_transactions": sum(output["batch_transactions"] for output in outputs),
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

    def warm_up(self, seconds: float | None = None) -> None:
        # Plans, the JIT and the page cache settle before anything is recorded. The first API is
        # warmed again last: a fresh Neo4j's JIT was seen still settling after one round, which
        # cost the first recorded run (always REST) up to half its rate.
        for api in [*self.args.mix_apis, *self.args.mix_apis[:1]]:
            self.measure("mix", api, self.args.concurrency, seconds or self.args.warm_up)

    def profile(self, api: str) -> Path:
        """The mix again with py-spy sampling the service: collapsed stacks, for flame graphs."""
        out = RESULTS_DIR / f"profile-{api}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.txt"
        running = sampler(self.service.pid, self.args.seconds, out)
        self.run("mix", api)
        running.wait(timeout=self.args.seconds + 30)
        print(summarize(out), flush=True)
        return out

    def run(
        self,
        workload: str,
        api: str,
        concurrency: int | None = None,
        *,
        name: str | None = None,
        seconds: float | None = None,
    ) -> Row:
        row = self.measure(
            workload,
            api,
            concurrency or self.args.concurrency,
            seconds or self.args.seconds,
            name,
        )
        print(table([row]).splitlines()[-1], flush=True)
        return row


def _children_cpu() -> float:
    """CPU seconds of this process's finished children: wrk and the driver-only processes."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return children.ru_utime + children.ru_stime


def _percentile(ordered: list[int], share: float) -> int:
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0


def _wrk(
    url: str, bodies: Path, concurrency: int, seconds: float, api_key: str | None = None
) -> dict[str, Any]:
    threads = min(WRK_THREADS, concurrency)  # wrk wants a connection per thread at least
    command = [
        "wrk", f"-t{threads}", f"-c{concurrency}", f"-d{round(seconds)}s", "--timeout", "15s",
        "-s", str(LUA), url, "--", str(bodies), str(threads), api_key or "",
    ]  # fmt: skip
    completed = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    last = completed.stdout.strip().splitlines()[-1] if completed.stdout.strip() else ""
    if completed.returncode != 0 or not last.startswith("{"):
        raise RuntimeError(f"wrk failed: {completed.stdout[-2000:]}{completed.stderr[-2000:]}")
    parsed: dict[str, Any] = json.loads(last)
    return parsed
