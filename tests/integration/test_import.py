"""`identity import`: rows in created_at order through the service's rules, rejected rows with
their reasons, and resuming after an interruption without duplicates."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from neo4j import Driver

from bench.orders_csv import write_orders
from graphdb.driver import Neo4jConnection
from graphdb.repository import ContactRepository
from resolvers.cli.importing.checkpoint import checkpoint_path
from resolvers.cli.importing.rows import read_orders
from resolvers.cli.main import main
from tests.support.cli import IDENTITY, cli_env, clusters, contacts, wipe

# docs/rules.md's examples with their order dates, unsorted in the file, and one bad row of each
# kind.
ORDERS = """created_at,email,phone
2021-03-04T10:00:00Z,george@hillvalley.edu,717171
2021-01-01T09:00:00Z,lorraine@hillvalley.edu,123456
2021-03-01T10:00:00+02:00,george@hillvalley.edu,919191
2021-01-02T09:00:00,McFly@HillValley.edu,123-456
2021-03-02T10:00:00Z,biffsucks@hillvalley.edu,717171
2021-01-03T09:00:00Z,,123456
2021-01-04T09:00:00Z,mcfly@hillvalley.edu,
,doc@hillvalley.edu,555
last week,doc@hillvalley.edu,555
2021-05-05T09:00:00Z,not-an-email,555
2021-05-05T09:00:00Z,doc@hillvalley.edu,call me
2021-05-05T09:00:00Z,,
2021-05-05T09:00:00Z,doc@hillvalley.edu
"""


def _import(connection: Neo4jConnection, path: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["import", str(path), *args], env=cli_env(connection))


def test_rows_are_linked_in_created_at_order_by_the_service_rules(
    graph: Driver, neo4j: Neo4jConnection, tmp_path: Path
) -> None:
    source = tmp_path / "orders.csv"
    source.write_text(ORDERS)

    result = _import(neo4j, source)

    assert result.exit_code == 0, result.output
    assert f"{source}: 13 rows" in result.output
    assert "contacts created: 4 (3 new primaries, 1 secondaries)" in result.output
    assert "merges:           1" in result.output
    assert "nothing new:      2" in result.output
    assert "rejected:         6" in result.output
    # Lorraine's order came first, so she is the primary; George's +02:00 order is the older.
    assert contacts(graph, neo4j.database) == sorted(
        [
            ("biffsucks@hillvalley.edu", "717171", "2021-03-02T10:00:00Z", "secondary",
             "george@hillvalley.edu", "919191"),
            ("george@hillvalley.edu", "919191", "2021-03-01T08:00:00Z", "primary",
             "george@hillvalley.edu", "919191"),
            ("lorraine@hillvalley.edu", "123456", "2021-01-01T09:00:00Z", "primary",
             "lorraine@hillvalley.edu", "123456"),
            ("mcfly@hillvalley.edu", "123456", "2021-01-02T09:00:00Z", "secondary",
             "lorraine@hillvalley.edu", "123456"),
        ],
        key=repr,
    )  # fmt: skip
    rejected = (tmp_path / "orders.rejected.csv").read_text().splitlines()
    assert rejected[0] == "line,code,reason,created_at,email,phone"
    assert [line.split(",")[:2] for line in rejected[1:]] == [
        ["9", "missing_created_at"],
        ["10", "invalid_created_at"],
        ["11", "invalid_email"],
        ["12", "invalid_phone"],
        ["13", "missing_identifier"],
        ["14", "malformed_row"],
    ]


async def test_a_historical_created_at_dates_the_new_contact(
    repository: ContactRepository,
) -> None:
    then = datetime(2020, 2, 29, 12, 30, 15, 123456, tzinfo=UTC)

    old = await repository.identify("doc@hillvalley.edu", "555", created_at=then)
    new = await repository.identify("doc@hillvalley.edu", "556")

    assert old.cluster.primary.created_at == then
    (secondary,) = await repository.contacts([new.cluster.secondaries[0].id])
    assert secondary.created_at > datetime.now(UTC) - timedelta(minutes=5)


def test_applying_rows_again_creates_nothing(
    graph: Driver, neo4j: Neo4jConnection, tmp_path: Path
) -> None:
    source = tmp_path / "orders.csv"
    write_orders(source, rows=200, seed=3)
    assert _import(neo4j, source).exit_code == 0
    before = contacts(graph, neo4j.database)

    again = _import(neo4j, source, "--restart")

    assert again.exit_code == 0, again.output
    assert "contacts created: 0 " in again.output
    assert "merges:           0" in again.output
    assert contacts(graph, neo4j.database) == before


def test_a_limited_import_resumes_where_it_stopped(
    graph: Driver, neo4j: Neo4jConnection, tmp_path: Path
) -> None:
    source = tmp_path / "orders.csv"
    one_shot = _one_shot_then_wipe(graph, neo4j, source, rows=300)

    first = _import(neo4j, source, "--limit", "120")
    assert _done(source) == 120
    second = _import(neo4j, source)

    assert first.exit_code == 0, first.output
    assert "Stopped at the limit: 120 of" in first.output
    assert second.exit_code == 0, second.output
    assert "Resuming after row 120" in second.output
    assert contacts(graph, neo4j.database) == one_shot


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGKILL], ids=lambda s: s.name)
def test_an_interrupted_import_resumes_to_the_graph_of_one_run(
    graph: Driver, neo4j: Neo4jConnection, tmp_path: Path, stop_signal: signal.Signals
) -> None:
    source = tmp_path / "orders.csv"
    one_shot = _one_shot_then_wipe(graph, neo4j, source, rows=1000)

    with subprocess.Popen(  # noqa: S603 - our own command
        [IDENTITY, "import", str(source)],
        env=cli_env(neo4j),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as interrupted:
        _wait_for_progress(source, interrupted)
        interrupted.send_signal(stop_signal)
        output, _ = interrupted.communicate(timeout=120)
    done = _done(source)
    resumed = _import(neo4j, source)

    if stop_signal == signal.SIGKILL:
        assert interrupted.returncode == -signal.SIGKILL
    else:
        assert interrupted.returncode == 128 + stop_signal, output
        assert f"Stopped by {stop_signal.name}: {done} of" in output
    assert 0 < done < len(read_orders(source).rows)
    assert resumed.exit_code == 0, resumed.output
    assert f"Resuming after row {done}" in resumed.output
    after = contacts(graph, neo4j.database)
    assert after == one_shot
    assert len(set(after)) == len(after)
    assert clusters(after) == clusters(one_shot)
    check = CliRunner().invoke(main, ["check"], env=cli_env(neo4j))
    assert check.exit_code == 0, check.output


def _one_shot_then_wipe(
    graph: Driver, neo4j: Neo4jConnection, source: Path, rows: int
) -> list[tuple[Any, ...]]:
    """The graph of one uninterrupted import of a generated file, then a fresh start."""
    write_orders(source, rows=rows, seed=rows)
    assert _import(neo4j, source).exit_code == 0
    one_shot = contacts(graph, neo4j.database)
    wipe(graph, neo4j.database)
    checkpoint_path(source).unlink()
    return one_shot


def _done(source: Path) -> int:
    done: int = json.loads(checkpoint_path(source).read_text())["done"]
    return done


def _wait_for_progress(source: Path, process: subprocess.Popen[str]) -> None:
    """Until the checkpoint shows rows applied: the import is then surely midway."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if checkpoint_path(source).exists() and _done(source) > 0:
            return
        time.sleep(0.05)
    pytest.fail(f"the import made no checkpoint (exit code {process.poll()})")
