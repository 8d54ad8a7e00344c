"""The project's local Neo4j: Browser served, clear errors for a taken port or a live PID file."""

from __future__ import annotations

import dataclasses
import socket
import urllib.request
from pathlib import Path

import pytest

from graphdb.local.server import (
    PID_FILE,
    LocalNeo4j,
    LocalNeo4jConfig,
    LocalNeo4jError,
    free_port,
)


def test_neo4j_browser_is_served(local_neo4j: LocalNeo4j) -> None:
    url = f"{local_neo4j.config.http_url}browser/"
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback only
        page = response.read().decode()

    assert response.status == 200
    assert "Neo4j Browser" in page


def test_discovery_advertises_the_chosen_bolt_port(local_neo4j: LocalNeo4j) -> None:
    with urllib.request.urlopen(local_neo4j.config.http_url, timeout=10) as response:  # noqa: S310
        discovery = response.read().decode()

    assert f"bolt://127.0.0.1:{local_neo4j.config.bolt_port}" in discovery


def test_a_taken_port_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        server = LocalNeo4j(LocalNeo4jConfig(tmp_path, bolt_port=taken, http_port=free_port()))

        with pytest.raises(LocalNeo4jError, match=f"Port {taken} .* in use.*NEO4J_BOLT_PORT"):
            server.start()


def test_a_server_still_running_from_the_same_home_is_a_clear_error(
    local_neo4j: LocalNeo4j,
) -> None:
    again = LocalNeo4j(dataclasses.replace(local_neo4j.config, bolt_port=free_port()))

    with pytest.raises(LocalNeo4jError, match=r"still running \(PID \d+\)"):
        again.start()


def test_a_stale_pid_file_is_removed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # No process has that PID (it is above any pid_max), so the file is stale.
    pid_file = tmp_path / "run" / PID_FILE
    pid_file.parent.mkdir()
    pid_file.write_text("999999999\n")
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        server = LocalNeo4j(
            LocalNeo4jConfig(tmp_path, bolt_port=squatter.getsockname()[1], http_port=free_port())
        )
        # The start gets past the PID check, then stops at the taken port, before any Java.
        with pytest.raises(LocalNeo4jError, match="in use"):
            server.start()

    assert not pid_file.exists()
    assert "Removing stale PID file" in capsys.readouterr().out
