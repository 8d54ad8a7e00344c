"""Benchmark results: one row per run, the printed table, the targets, and the JSON record."""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"
# The peer's best figures on this machine (bench.peer), when it is not raced in the run.
RECORDED_PEER_RATES = {"new": 1576.0, "returning": 1577.0}
# Rows that are not workloads of their own: the mix right after a cold start, and new people
# sent by one client.
COLD_START = "mix, cold start"
ONE_CLIENT = "new, one client"


@dataclass(frozen=True)
class Row:
    workload: str
    api: str  # "rest", "graphql" or "driver" (the ceiling: no HTTP)
    db_contacts: int
    concurrency: int
    requests: int
    seconds: float
    errors: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    # CPU milliseconds per request, by process: Neo4j, the service (or the driver-only
    # process), and the load generator.
    neo4j_cpu_ms: float = 0.0
    service_cpu_ms: float = 0.0
    client_cpu_ms: float = 0.0
    # The deployment: service worker processes, IDENTIFY_BATCH_MAX, and the requests each
    # identify transaction committed on average (group commit) during the run.
    workers: int = 1
    batch_max: int = 64
    mean_batch: float = 0.0

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @classmethod
    def from_measurement(
        cls,
        workload: str,
        api: str,
        db_contacts: int,
        concurrency: int,
        raw: dict[str, Any],
        *,
        cpu_seconds: tuple[float, float, float],
        workers: int,
        batch_max: int,
        mean_batch: float,
    ) -> Row:
        errors = sum(
            int(raw.get(kind, 0))
            for kind in ("connect_errors", "read_errors", "write_errors", "status_errors")
        ) + int(raw.get("timeouts", 0))
        requests = max(1, int(raw["requests"]))
        neo4j, service, client = (1e3 * seconds / requests for seconds in cpu_seconds)
        return cls(
            workload, api, db_contacts, concurrency, int(raw["requests"]),
            raw["duration_us"] / 1e6, errors, raw["p50_us"] / 1e3, raw["p95_us"] / 1e3,
            raw["p99_us"] / 1e3, raw["max_us"] / 1e3, neo4j, service, client,
            workers, batch_max, mean_batch,
        )  # fmt: skip


def table(rows: list[Row]) -> str:
    header = (
        f"{'workload':<18}{'api':<9}{'db':>10}{'w':>3}{'max':>5}{'conc':>6}{'requests':>10}"
        f"{'req/s':>8}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}{'err':>5}{'batch':>7}"
        f"{'cpu ms/req: neo4j':>19}{'service':>9}{'load':>6}"
    )
    lines = [header, "-" * len(header)]
    lines += [
        f"{r.workload:<18}{r.api:<9}{r.db_contacts:>10,}{r.workers:>3}{r.batch_max:>5}"
        f"{r.concurrency:>6}{r.requests:>10,}{r.rate:>8,.0f}{r.p50_ms:>8.1f}{r.p95_ms:>8.1f}"
        f"{r.p99_ms:>8.1f}{r.errors:>5}{r.mean_batch:>7.1f}"
        f"{r.neo4j_cpu_ms:>19.2f}{r.service_cpu_ms:>9.2f}{r.client_cpu_ms:>6.2f}"
        for r in rows
    ]
    return "\n".join(lines)


@dataclass(frozen=True)
class Target:
    name: str
    measured: str
    met: bool | None  # None: a figure reported beside the targets, with no target of its own


def _find(
    rows: list[Row], workload: str, api: str = "rest", contacts: int | None = None
) -> Row | None:
    """The first such row: the main runs come before the rows of other deployments."""
    for row in rows:
        same_size = contacts is None or row.db_contacts == contacts
        if row.workload == workload and row.api == api and same_size:
            return row
    return None


def _at_least(name: str, row: Row | None, rate: float) -> list[Target]:
    return [] if row is None else [Target(name, f"{row.rate:,.0f} req/s", row.rate >= rate)]


def targets(
    rows: list[Row],
    small: int,
    large: int | None,
    import_rate: float | None,
) -> list[Target]:
    """The targets of issue 21, on the shipped defaults with keys required: REST at concurrency
    32 on the small database unless they say. Without the peer's rows (it was not raced in the
    run), its recorded figures stand in (bench.peer)."""
    found: list[Target] = []
    mix = _find(rows, "mix", "rest", small)
    for workload in ("new", "returning"):
        row = _find(rows, workload, "rest", small)
        found += _at_least(f"{workload} people >= 3,000 req/s", row, 3000)
        if row is not None:
            found.append(
                Target(f"{workload} people p99 < 40 ms", f"{row.p99_ms:.1f} ms", row.p99_ms < 40)
            )
    found += _at_least("mix >= 3,000 req/s", mix, 3000)
    graphql = _find(rows, "mix", "graphql", small)
    if mix is not None and graphql is not None and mix.rate:
        share = graphql.rate / mix.rate
        found.append(Target("GraphQL mix >= 0.8x the REST mix", f"{share:.2f}x", share >= 0.8))
    if mix is not None:
        found.append(Target("mix p99", f"{mix.p99_ms:.1f} ms", None))
        found.append(
            Target("mix mean batch (requests a transaction)", f"{mix.mean_batch:.1f}", None)
        )
    lone = _find(rows, ONE_CLIENT)
    if lone is not None:
        found.append(Target("one client, new people: p50 <= 1.5 ms", f"{lone.p50_ms:.2f} ms",
                            lone.p50_ms <= 1.5))  # fmt: skip
    for workload in ("new", "returning"):
        ours = _find(rows, workload, "rest", small)
        peer = _find(rows, workload, "peer")
        rate = peer.rate if peer is not None else RECORDED_PEER_RATES[workload]
        if ours is not None and rate:
            source = "side by side" if peer is not None else "its recorded best"
            ratio = ours.rate / rate
            found.append(Target(f"{workload} people >= 1.5x the SQL peer ({source})",
                                f"{ratio:.2f}x", ratio >= 1.5))  # fmt: skip
    cold = _find(rows, COLD_START)
    if cold is not None and mix is not None and mix.rate:
        share = cold.rate / mix.rate
        found.append(Target("first 10 s after ready >= 0.9x warm", f"{share:.2f}x", share >= 0.9))
    ceiling = _find(rows, "mix", "driver", small)
    if mix is not None and ceiling is not None and ceiling.rate:
        share = mix.rate / ceiling.rate
        found.append(Target("REST mix share of the driver-only ceiling", f"{share:.0%}", None))
    big = _find(rows, "mix", "rest", large) if large is not None else None
    if mix is not None and big is not None and mix.p50_ms:
        ratio = big.p50_ms / mix.p50_ms
        found.append(Target("1M mix p50 / the 10k p50", f"{ratio:.2f}x", None))
    merges = _find(rows, "merge")
    if merges is not None:
        found.append(Target("merges", f"{merges.rate:,.0f} req/s", None))
    if import_rate is not None:
        found.append(Target("CSV import", f"{import_rate:,.0f} rows/s", None))
    return found


def targets_text(found: list[Target]) -> str:
    def mark(met: bool | None) -> str:
        return "info" if met is None else "met" if met else "MISSED"

    return "\n".join(f"  [{mark(t.met)}] {t.name}: {t.measured}" for t in found)


def _wrk_version() -> str:
    # wrk prints its version with the usage text, and exits 1 doing so.
    completed = subprocess.run(
        ["wrk", "--version"],  # noqa: S607
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    lines = (completed.stdout or completed.stderr).splitlines()
    return lines[0] if lines else "unknown"


def machine() -> dict[str, Any]:
    return {
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "neo4j": "5.26.30 Community (local, Maven Central jars)",
        "packages": {
            name: version(name)
            for name in ("neo4j", "neo4j-rust-ext", "uvicorn", "starlette", "strawberry-graphql")
        },
        "wrk": _wrk_version(),
    }


def write_json(
    rows: list[Row],
    found: list[Target],
    args: argparse.Namespace,
    extra: dict[str, Any],
    prefix: str = "",
) -> Path:
    settings = {key: value for key, value in vars(args).items() if not key.startswith("_")}
    RESULTS_DIR.mkdir(exist_ok=True)
    now = datetime.now(UTC)
    path = RESULTS_DIR / f"{prefix}{now:%Y%m%dT%H%M%SZ}.json"
    record = {
        "at": now.isoformat(),
        "machine": machine(),
        "settings": settings,
        "rows": [asdict(row) | {"req_per_s": round(row.rate, 1)} for row in rows],
        "targets": [asdict(target) for target in found],
        **extra,
    }
    path.write_text(json.dumps(record, indent=2) + "\n")
    return path
