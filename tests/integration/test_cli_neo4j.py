"""`identity neo4j start|status|stop`: a local Neo4j that outlives the command that started it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from graphdb.local.server import (
    LIB_DIR,
    NEO4J_JAR,
    configured_ports,
    free_port,
    running_pid,
    stop_running,
)
from tests.support.cli import IDENTITY


def _identity(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own command
        [IDENTITY, *args], env=env, capture_output=True, text=True, timeout=300, check=False
    )


def test_start_leaves_neo4j_running_until_stop(tmp_path: Path) -> None:
    home = tmp_path / "neo4j"
    bolt, http = free_port(), free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("NEO4J_")}
    env |= {
        "NEO4J_HOME_DIR": str(home),
        "NEO4J_BOLT_PORT": str(bolt),
        "NEO4J_HTTP_PORT": str(http),
        "NEO4J_HEAP": "512m",
        "NEO4J_PAGE_CACHE": "64m",
    }
    try:
        started = _identity(env, "neo4j", "start")
        pid = running_pid(home)
        # Another process, with other ports in its environment, finds it by its home.
        running = _identity(
            env | {"NEO4J_BOLT_PORT": "1", "NEO4J_HTTP_PORT": "2"}, "neo4j", "status"
        )
        stopped = _identity(env, "neo4j", "stop")
        after = _identity(env, "neo4j", "status")
    finally:
        stop_running(home)

    assert started.returncode == 0, started.stderr
    assert pid is not None
    assert started.stdout.splitlines()[1:] == [
        f"Neo4j is running (PID {pid}).",
        f"Bolt: bolt://127.0.0.1:{bolt}",
        f"Neo4j Browser: http://127.0.0.1:{http}/browser/",
        f"User neo4j, password in {home / 'password'}",
    ]
    assert running.returncode == 0
    assert running.stdout.splitlines() == [
        f"Neo4j is running (PID {pid}, home {home}).",
        f"Bolt: bolt://127.0.0.1:{bolt}",
        f"Neo4j Browser: http://127.0.0.1:{http}/browser/",
    ]
    assert (stopped.returncode, stopped.stdout) == (0, f"Stopped Neo4j (PID {pid}).\n")
    assert running_pid(home) is None
    assert (after.returncode, after.stdout) == (3, f"Neo4j is not running (home {home}).\n")
    assert configured_ports(home) == (bolt, http)


def test_fetch_puts_the_jars_in_place(tmp_path: Path) -> None:
    # The jars folder is shared with every local Neo4j; fetching again is a no-op once they are in.
    env = {key: value for key, value in os.environ.items() if not key.startswith("NEO4J_")}
    fetched = _identity(env | {"NEO4J_HOME_DIR": str(tmp_path / "neo4j")}, "neo4j", "fetch")

    assert fetched.returncode == 0, fetched.stderr
    assert "jars are in place" in fetched.stdout
    assert (LIB_DIR / NEO4J_JAR).is_file()
