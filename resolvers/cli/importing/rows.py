"""Historical orders from a CSV file: read, validated as the API validates, sorted by created_at."""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from graphdb.requests import IdentifyRequest
from resolvers.core.identifiers import (
    IdentifierRules,
    Identifiers,
    InvalidIdentifier,
    canonical_identifiers,
)
from resolvers.core.identify import sighting

COLUMNS = ("created_at", "email", "phone")


class OrderFileError(Exception):
    """The file as a whole cannot be imported (unreadable, not UTF-8, columns missing)."""


@dataclass(frozen=True)
class OrderRow:
    line: int
    created_at: datetime  # in UTC
    values: Identifiers  # canonical, blocked ones marked

    @property
    def request(self) -> IdentifyRequest:
        return sighting(self.values, created_at=self.created_at)

    @property
    def identifiers(self) -> list[tuple[str, str]]:
        """The values it links through: a row waits for earlier rows sharing one."""
        return list(self.request.keys)


@dataclass(frozen=True)
class RejectedRow:
    line: int
    cells: list[str]  # the row as it stands in the file
    code: str
    reason: str


@dataclass(frozen=True)
class OrderFile:
    header: list[str]
    rows: list[OrderRow]  # the valid ones, by (created_at, line)
    rejected: list[RejectedRow]  # in file order
    # A checkpoint counts rows in the sorted order of one file's contents; this names them.
    digest: str

    @property
    def total(self) -> int:
        return len(self.rows) + len(self.rejected)


def read_orders(path: Path, rules: IdentifierRules | None = None) -> OrderFile:
    try:
        data = path.read_bytes()
        text = data.decode("utf-8-sig")
    except OSError as error:
        raise OrderFileError(f"cannot read {path}: {error.strerror}") from error
    except UnicodeDecodeError as error:
        raise OrderFileError(f"{path} is not UTF-8 text: {error.reason}") from error
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [name.strip().lower() for name in next(reader, [])]
    missing = [name for name in COLUMNS if name not in header]
    if missing:
        raise OrderFileError(f"{path}: the header lacks column(s) {', '.join(missing)}")
    where = {name: header.index(name) for name in COLUMNS}
    rows: list[OrderRow] = []
    rejected: list[RejectedRow] = []
    for cells in reader:
        if not any(cell.strip() for cell in cells):
            continue  # a blank line is no order
        row = _order_or_rejection(reader.line_num, cells, where, len(header), rules)
        if isinstance(row, OrderRow):
            rows.append(row)
        else:
            rejected.append(row)
    # Ties keep file order, so a given file always sorts the same way (checkpoints rely on it).
    rows.sort(key=lambda row: (row.created_at, row.line))
    return OrderFile(header, rows, rejected, hashlib.sha256(data).hexdigest())


def _order_or_rejection(
    line: int, cells: list[str], where: dict[str, int], width: int, rules: IdentifierRules | None
) -> OrderRow | RejectedRow:
    if len(cells) != width:
        return RejectedRow(
            line, cells, "malformed_row", f"the row has {len(cells)} cells, the header {width}."
        )
    created_at = _timestamp(cells[where["created_at"]])
    if isinstance(created_at, tuple):
        code, reason = created_at
        return RejectedRow(line, cells, code, reason)
    # An empty cell is an absent value: CSV has no null to tell the two apart.
    identifiers = canonical_identifiers(
        cells[where["email"]].strip() or None, cells[where["phone"]].strip() or None, rules
    )
    if isinstance(identifiers, InvalidIdentifier):
        return RejectedRow(line, cells, identifiers.code, identifiers.message)
    return OrderRow(line, created_at, identifiers)


def _timestamp(raw: str) -> datetime | tuple[str, str]:
    """ISO 8601; one without an offset is taken as UTC. Or (code, reason) for a bad one."""
    if not raw.strip():
        return ("missing_created_at", "created_at is empty.")
    try:
        moment = datetime.fromisoformat(raw.strip())
    except ValueError:
        return ("invalid_created_at", "created_at is not an ISO 8601 date and time.")
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
