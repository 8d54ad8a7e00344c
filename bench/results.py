"""Benchmark results: one row per run, the printed table, the targets, and the JSON record."""

from __future__ import annotations

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
        )  # fmt: skip


def table(rows: list[Row]) -> str:
    header = (
        f"{'workload':<16}{'api':<9}{'db':>10}{'conc':>6}{'requests':>10}{'req/s':>9}"
        f"{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'errors':>8}"
        f"{'cpu ms/req: neo4j':>19}{'service':>9}{'load':>6}"
    )
    lines = [header, "-" * len(header)]
    lines += [
        f"{r.workload:<16}{r.api:<9}{r.db_contacts:>10,}{r.concurrency:>6}{r.requests:>10,}"
        f"{r.rate:>9,.0f}{r.p50_ms:>9.1f}{r.p95_ms:>9.1f}{r.p99_ms:>9.1f}{r.errors:>8}"
        f"{r.neo4j_cpu_ms:>19.2f}{r.service_cpu_ms:>9.2f}{r.client_cpu_ms:>6.2f}"
        for r in rows
    ]
    return "\n".join(lines)


@dataclass(frozen=True)
class Target:
    name: str
    measured: str
    met: bool | None  # None: a figure reported beside the targets, with no target of its own


def _find(rows: list[Row], workload: str, api: str, contacts: int | None = None) -> Row | None:
    for row in rows:
        same_size = contacts is None or row.db_contacts == contacts
        if row.workload == workload and row.api == api and same_size:
            return row
    return None


def targets(rows: list[Row], small: int, large: int | None) -> list[Target]:
    """Issue 4's targets, judged on the mix at the small database (and scale at the large one)."""
    found: list[Target] = []
    rest = _find(rows, "mix", "rest", small)
    graphql = _find(rows, "mix", "graphql", small)
    ceiling = _find(rows, "mix", "driver", small)
    if rest is not None:
        found.append(
            Target("REST mix >= 1,500 req/s", f"{rest.rate:,.0f} req/s", rest.rate >= 1500)
        )
        found.append(Target("REST mix p99 < 100 ms", f"{rest.p99_ms:.1f} ms", rest.p99_ms < 100))
    if graphql is not None:
        found.append(
            Target("GraphQL mix >= 1,000 req/s", f"{graphql.rate:,.0f} req/s", graphql.rate >= 1000)
        )
    if rest is not None and ceiling is not None and ceiling.rate:
        share = rest.rate / ceiling.rate
        found.append(Target("REST mix >= 70% of driver ceiling", f"{share:.0%}", share >= 0.70))
    if graphql is not None and ceiling is not None and ceiling.rate:
        share = graphql.rate / ceiling.rate
        found.append(Target("GraphQL mix share of the driver ceiling", f"{share:.0%}", None))
    big = _find(rows, "mix", "rest", large) if large is not None else None
    if rest is not None and big is not None and rest.p50_ms:
        ratio = big.p50_ms / rest.p50_ms
        found.append(
            Target("REST mix p50, large db / small db <= 1.5", f"{ratio:.2f}x", ratio <= 1.5)
        )
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
    rows: list[Row], found: list[Target], settings: dict[str, Any], extra: dict[str, Any]
) -> Path:
    RESULTS_DIR.mkdir(exist_ok=True)
    now = datetime.now(UTC)
    path = RESULTS_DIR / f"{now:%Y%m%dT%H%M%SZ}.json"
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
