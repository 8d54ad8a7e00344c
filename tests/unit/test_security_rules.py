"""Security rules checked on the code and files alone: parameterised Cypher only, no default
database password, Neo4j with auth, no identifier or raw request data handed to a log call."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import yaml

from graphdb.local.server import LocalNeo4jConfig, _neo4j_conf

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [p for folder in ("graphdb", "resolvers", "schema", "bench", "tests") for p in (ROOT / folder).rglob("*.py")]  # fmt: skip  # noqa: E501
CYPHER_CALLS = {"run", "execute_query"}
SERVICE_SOURCES = [p for folder in ("graphdb", "resolvers", "schema") for p in (ROOT / folder).rglob("*.py")]  # fmt: skip  # noqa: E501
LOG_CALLS = {"debug", "info", "warning", "error", "exception", "critical", "log"}
# Names whose values are an email, a phone number, or what a client sent as it sent it.
UNLOGGABLE = {
    "email",
    "phone",
    "phone_number",
    "phoneNumber",
    "identify_input",
    "payload",
    "body",
    "path",
    "raw_path",
    "query_string",
    "headers",
    "url",
}


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


def _logged_unloggables(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """Arguments of log calls (log.info(...), logger.warning(...)) that name an identifier or raw
    request data: as a variable, an attribute or a subscript key (scope["path"])."""
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr not in LOG_CALLS or not isinstance(node.func.value, ast.Name):
            continue
        if node.func.value.id not in {"log", "logger", "logging"}:
            continue
        for argument in [*node.args[1:], *(keyword.value for keyword in node.keywords)]:
            for part in ast.walk(argument):
                name = _name_of(part)
                if name in UNLOGGABLE:
                    yield node.lineno, name


def _name_of(node: ast.AST) -> str | None:
    """`email`, `request.email` and `scope["email"]` all name an email."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def test_no_log_call_is_handed_an_identifier_or_raw_request_data() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{line} {name}"
        for path in SERVICE_SOURCES
        for line, name in _logged_unloggables(ast.parse(path.read_text()))
    ]

    assert offenders == []


def test_the_check_itself_spots_a_logged_path_and_email() -> None:
    tree = ast.parse(
        'log.exception("on %s", scope["path"])\n'
        'logger.info("x", extra={"who": request.email})\n'
        'log.warning("%s", phone_number)\n'
        'log.info("fine %s", route)'
    )

    assert list(_logged_unloggables(tree)) == [(1, "path"), (2, "email"), (3, "phone_number")]
