"""FILE.rejected.csv: the rows an import turned down, with why, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

from graphdb.local.private_files import open_private
from resolvers.cli.importing.rows import RejectedRow

# A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets (tab,
# carriage return and NUL too, as OWASP's CSV injection advice and ASVS 1.2.10 list): a rejected
# row is whatever the source file held, so `=HYPERLINK(...)` in it would run when an operator
# opens the file.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\0")


def rejected_path(source: Path) -> Path:
    """orders.csv -> orders.rejected.csv"""
    if source.suffix.lower() == ".csv":
        return source.with_suffix(".rejected.csv")
    return source.with_name(source.name + ".rejected.csv")


def spreadsheet_safe(cell: str) -> str:
    """A leading `'` makes a spreadsheet show the cell as text, not evaluate it."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def _safe_row(cells: Iterable[object]) -> list[str]:
    return [spreadsheet_safe(str(cell)) for cell in cells]


def write_rejected(path: Path, header: list[str], rejected: list[RejectedRow]) -> None:
    """Written whole on every run: rejections depend on the file alone, so a resumed import
    writes the same file again. 0600, as it holds people's emails and phones."""
    with open_private(path, newline="") as out:
        writer = csv.writer(out)
        # The reason first: a malformed row's cells need not line up with the header.
        writer.writerow(_safe_row(["line", "code", "reason", *header]))
        for row in rejected:
            writer.writerow(_safe_row([row.line, row.code, row.reason, *row.cells]))
