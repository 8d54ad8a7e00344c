"""Security rules checked on the code and files alone: parameterised Cypher only, no default
database password, Neo4j with auth, masked logs."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import yaml

from graphdb.local.server import LocalNeo4jConfig, _neo4j_conf
from resolvers.runtime.logs import mask

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

    # From a git-ignored file that `make compose-secrets` makes (test_container_hardening.py
    # checks it): there is no default to fall back on, and compose will not start without it.
    assert neo4j_env["NEO4J_AUTH_FILE"] == "/run/secrets/neo4j_auth"
    assert "NEO4J_AUTH" not in neo4j_env
    assert not any(
        "auth_enabled" in key and "false" in str(v).lower() for key, v in neo4j_env.items()
    )


def test_the_local_neo4j_runs_with_auth(tmp_path: Path) -> None:
    assert "dbms.security.auth_enabled=true" in _neo4j_conf(LocalNeo4jConfig(tmp_path)).splitlines()


def test_mask_hides_emails_and_phone_numbers() -> None:
    text = mask("lorraine@hillvalley.edu called from +15550100199, then 123456")

    assert text == "l***@hillvalley.edu called from +*********99, then ****56"
