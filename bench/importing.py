"""The CSV import's rate: a generated file of historical orders through `identity import`."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bench.orders_csv import write_orders

_SUMMARY = re.compile(r"this run:\s+(\d+) rows in ([\d.]+) s")


@dataclass(frozen=True)
class ImportRun:
    rows: int  # rows applied
    seconds: float  # from the first row to the last, as the import reports it
    output: str

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def import_orders(folder: Path, rows: int, env: Mapping[str, str]) -> ImportRun:
    """Writes `rows` generated orders and imports them with the environment's Neo4j."""
    source = folder / "orders.csv"
    write_orders(source, rows, seed=1)
    completed = subprocess.run(  # noqa: S603 - our own command
        [str(Path(sys.executable).parent / "identity"), "import", str(source)],
        env=dict(env),
        capture_output=True,
        text=True,
        check=False,
    )
    found = _SUMMARY.search(completed.stdout)
    if completed.returncode != 0 or found is None:
        raise RuntimeError(f"import failed: {completed.stdout[-2000:]}{completed.stderr[-2000:]}")
    return ImportRun(int(found[1]), float(found[2]), completed.stdout)
