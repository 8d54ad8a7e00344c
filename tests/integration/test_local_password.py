"""The local Neo4j's password stays off every command line and in files only its owner reads."""

from __future__ import annotations

import stat
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from neo4j import GraphDatabase

from graphdb.local.initial_password import ARGUMENT_FILE
from graphdb.local.server import (
    LocalNeo4j,
    LocalNeo4jConfig,
    LocalNeo4jError,
    fetch_jars,
    free_port,
    prepare_home,
)

# Each character picocli's @-file syntax could take for its own: a leading option dash, quotes,
# a backslash, a comment sign, an @ and spaces.
AWKWARD_PASSWORD = '-p@ss "wörd" \\ #1 \'x'


@dataclass
class AdminToolRuns:
    """What the admin tool was run with, and what its argument file held at that moment."""

    commands: list[list[str]] = field(default_factory=list)
    argument_file_modes: list[int] = field(default_factory=list)


@pytest.fixture
def admin_tool_runs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> AdminToolRuns:
    fetch_jars()  # before the spy: it runs Maven when the jars are missing
    runs = AdminToolRuns()
    real_run = subprocess.run

    def spy(command: list[str], *args: Any, **kwargs: Any) -> Any:
        runs.commands.append(list(command))
        argument_file = tmp_path / ARGUMENT_FILE
        if argument_file.exists():
            runs.argument_file_modes.append(stat.S_IMODE(argument_file.stat().st_mode))
        return real_run(command, *args, **kwargs)

    monkeypatch.setattr(subprocess, "run", spy)
    return runs


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_home_takes_its_password_from_a_private_file_not_argv(
    tmp_path: Path, admin_tool_runs: AdminToolRuns
) -> None:
    tmp_path.chmod(0o755)  # as a home made with the default umask would be
    config = LocalNeo4jConfig(
        tmp_path, free_port(), free_port(), heap="512m", page_cache="64m",
        password=AWKWARD_PASSWORD,
    )  # fmt: skip
    server = LocalNeo4j(config)
    server.start()
    try:
        server_command = Path(f"/proc/{server.pid_file.read_text().strip()}/cmdline").read_bytes()
        with GraphDatabase.driver(config.bolt_uri, auth=("neo4j", AWKWARD_PASSWORD)) as driver:
            driver.verify_connectivity()
    finally:
        server.stop()

    assert len(admin_tool_runs.commands) == 1
    assert not any(AWKWARD_PASSWORD in argument for argument in admin_tool_runs.commands[0])
    assert AWKWARD_PASSWORD.encode() not in server_command
    assert admin_tool_runs.argument_file_modes == [0o600]
    assert not (tmp_path / ARGUMENT_FILE).exists()
    assert config.password_file.read_text() == AWKWARD_PASSWORD + "\n"
    assert _mode(config.password_file) == 0o600
    assert _mode(tmp_path) == 0o700


def test_a_refused_password_leaves_no_file_holding_it(
    tmp_path: Path, admin_tool_runs: AdminToolRuns
) -> None:
    config = LocalNeo4jConfig(tmp_path, free_port(), free_port(), password="short")

    with pytest.raises(LocalNeo4jError, match="at least 8 characters"):
        prepare_home(config)

    assert admin_tool_runs.argument_file_modes == [0o600]
    assert not (tmp_path / ARGUMENT_FILE).exists()
    assert not config.password_file.exists()


def test_a_password_with_a_line_break_is_refused_before_any_file_is_written(
    tmp_path: Path, admin_tool_runs: AdminToolRuns
) -> None:
    config = LocalNeo4jConfig(tmp_path, free_port(), free_port(), password="two\nlines!")

    with pytest.raises(LocalNeo4jError, match="line break"):
        prepare_home(config)

    assert admin_tool_runs.commands == []
    assert not (tmp_path / ARGUMENT_FILE).exists()
