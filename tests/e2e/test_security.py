"""Security properties: parameterised Cypher only, no default database password, masked logs,
and error answers that carry neither a stack trace nor Cypher."""

from __future__ import annotations

import ast
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from neo4j import AsyncDriver

from graphdb.driver import Neo4jConnection
from graphdb.local_server import LocalNeo4jConfig, _neo4j_conf
from graphdb.repository import ContactRepository
from resolvers.logs import mask
from resolvers.settings import Settings
from tests.conftest import app_client

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [p for folder in ("graphdb", "resolvers", "schema", "bench", "tests") for p in (ROOT / folder).rglob("*.py")]  # fmt: skip  # noqa: E501
CYPHER_CALLS = {"run", "execute_query"}


def _built_strings(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """Calls of tx.run / execute_query whose statement is built at run time."""
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr not in CYPHER_CALLS or not node.args:
            continue
        statement = node.args[0]
        built = isinstance(statement, ast.JoinedStr | ast.BinOp) or (
            isinstance(statement, ast.Call)
            and isinstance(statement.func, ast.Attribute)
            and statement.func.attr == "format"
        )
        if built:
            yield node.lineno, ast.unparse(statement)[:60]


def test_cypher_is_never_built_from_strings_at_run_time() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{line} {text}"
        for path in SOURCES
        for line, text in _built_strings(ast.parse(path.read_text()))
    ]

    assert offenders == []


def test_the_check_itself_spots_an_f_string_statement() -> None:
    tree = ast.parse('async def f(tx, v):\n    await tx.run(f"MATCH (n {{id: {v}}}) RETURN n")')

    assert [line for line, _ in _built_strings(tree)] == [2]


def test_compose_never_runs_neo4j_without_auth_or_with_a_default_password() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    neo4j_env = compose["services"]["neo4j"]["environment"]
    service_env = compose["services"]["identity"]["environment"]

    assert neo4j_env["NEO4J_AUTH"].startswith("neo4j/${NEO4J_PASSWORD:?")
    assert service_env["NEO4J_PASSWORD"].startswith("${NEO4J_PASSWORD:?")
    assert not any(
        "auth_enabled" in key and "false" in str(v).lower() for key, v in neo4j_env.items()
    )


def test_the_local_neo4j_runs_with_auth(tmp_path: Path) -> None:
    assert "dbms.security.auth_enabled=true" in _neo4j_conf(LocalNeo4jConfig(tmp_path)).splitlines()


def test_mask_hides_emails_and_phone_numbers() -> None:
    text = mask("lorraine@hillvalley.edu called from +15550100199, then 123456")

    assert text == "l***@hillvalley.edu called from +*********99, then ****56"


async def _explode(*_args: object) -> None:
    raise RuntimeError(
        "MATCH (c:Contact {email: 'lorraine@hillvalley.edu', phoneNumber: '5550100199'})"
    )


async def test_unexpected_errors_are_answered_without_trace_and_logged_masked(
    driver: AsyncDriver,
    neo4j: Neo4jConnection,
    settings: Settings,
    log_output: io.StringIO,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ContactRepository, "identify", _explode)
    body = {"email": "lorraine@hillvalley.edu", "phoneNumber": "5550100199"}
    query = 'mutation { identify(input: {email: "lorraine@hillvalley.edu"}) { __typename } }'
    async with app_client(settings, neo4j) as client:
        rest = await client.post("/identify", json=body)
        graphql = await client.post("/graphql", json={"query": query})

    assert rest.status_code == 500
    assert rest.json() == {
        "error": {"code": "internal_error", "message": "An unexpected error occurred."}
    }
    assert graphql.json()["errors"][0]["message"] == "Unexpected error."
    for answer in (rest.text, graphql.text):
        assert "MATCH" not in answer
        assert "Traceback" not in answer
    logs = log_output.getvalue()
    assert "RuntimeError" in logs
    assert "l***@hillvalley.edu" in logs
    assert "lorraine@hillvalley.edu" not in logs
    assert "5550100199" not in logs
