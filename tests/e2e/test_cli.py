"""The `identity` command's serve and check, run as a user runs them."""

from __future__ import annotations

import signal
import subprocess
import time

import httpx
import pytest
from click.testing import CliRunner
from neo4j import Driver

from graphdb.driver import Neo4jConnection
from graphdb.local.server import free_port
from resolvers.cli.main import main
from tests.support.cli import IDENTITY, cli_env

LORRAINE = {"email": "lorraine@hillvalley.edu", "phoneNumber": "123456"}


def test_serve_answers_until_ctrl_c(graph: Driver, neo4j: Neo4jConnection) -> None:
    port = free_port()
    # As the `settings` fixture does: a busy test machine plans statements slowly at start-up.
    env = cli_env(
        neo4j, HOST="127.0.0.1", PORT=str(port), LOG_LEVEL="warning", REQUEST_TIMEOUT="30"
    )
    with subprocess.Popen(  # noqa: S603 - our own command
        [IDENTITY, "serve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as service:
        try:
            answer = _identify_once_up(f"http://127.0.0.1:{port}", service)
        finally:
            service.send_signal(signal.SIGINT)
            output, _ = service.communicate(timeout=60)

    assert answer["contact"]["emails"] == [LORRAINE["email"]]
    assert f"GraphQL and GraphiQL: http://127.0.0.1:{port}/graphql" in output
    assert service.returncode == 0, output


def _identify_once_up(base: str, service: subprocess.Popen[str]) -> dict[str, dict[str, object]]:
    """POST /identify as soon as the service answers it: it listens, then a 503 says to retry
    while its start-up planning has not finished."""
    deadline = time.monotonic() + 90
    while service.poll() is None and time.monotonic() < deadline:
        try:
            response = httpx.post(f"{base}/identify", json=LORRAINE, timeout=30)
        except httpx.ConnectError:
            time.sleep(0.1)
            continue
        if response.status_code == 503:
            continue
        assert response.status_code == 200, response.text
        answer: dict[str, dict[str, object]] = response.json()
        return answer
    pytest.fail(f"the service did not answer (exit code {service.poll()})")


def test_check_exits_1_on_a_violation(graph: Driver, neo4j: Neo4jConnection) -> None:
    runner = CliRunner()
    clean = runner.invoke(main, ["check"], env=cli_env(neo4j))
    graph.execute_query(
        "CREATE (:Contact {id: 7, email: 'doc@hillvalley.edu', linkPrecedence: 'secondary', "
        "createdAt: datetime(), updatedAt: datetime()})",
        database_=neo4j.database,
    )

    broken = runner.invoke(main, ["check"], env=cli_env(neo4j))

    assert (clean.exit_code, clean.output) == (0, "0 violation(s)\n")
    assert broken.exit_code == 1
    assert "secondary 7 has 0 LINKED_TO, not 1" in broken.output
