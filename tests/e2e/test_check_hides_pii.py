"""`identity check` prints the keyed hashes of the emails and phones in the violations it finds,
and the values themselves only when asked with --show-pii; contact ids are printed either way."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from neo4j import Driver

from graphdb.driver import Neo4jConnection
from resolvers.cli.main import main
from resolvers.runtime.log_hash import LogHash
from tests.support.cli import cli_env
from tests.support.logs import leaks, logging_restored

KEY = "the install's key"
EMAIL, STORED_AS, PHONE = "bob~@example.com", "Bob~@example.com", "73519"
# A secondary linked to nothing, whose HAS_EMAIL node holds another spelling of its email, and a
# contact duplicating it: every value appears in the violations.
BROKEN = """
CREATE (c:Contact {id: 41, email: $email, phoneNumber: $phone, linkPrecedence: 'secondary',
                   createdAt: datetime(), updatedAt: datetime()})
CREATE (c)-[:HAS_EMAIL]->(:Email {value: $stored_as})
CREATE (c)-[:HAS_PHONE]->(:Phone {value: $phone})
CREATE (:Contact {id: 42, email: $email, phoneNumber: $phone, linkPrecedence: 'primary',
                  createdAt: datetime(), updatedAt: datetime()})
"""


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """The command configures the process's logging, as it does when run from a shell."""
    with logging_restored():
        yield


@pytest.mark.usefixtures("restore_logging")
def test_check_prints_hashes_unless_asked_for_the_values(
    graph: Driver, neo4j: Neo4jConnection
) -> None:
    graph.execute_query(
        BROKEN, email=EMAIL, stored_as=STORED_AS, phone=PHONE, database_=neo4j.database
    )
    env = cli_env(neo4j, LOG_HASH_KEY=KEY)

    hidden = CliRunner().invoke(main, ["check"], env=env)
    shown = CliRunner().invoke(main, ["check", "--show-pii"], env=env)

    log_hash = LogHash(KEY.encode())
    assert hidden.exit_code == shown.exit_code == 1
    assert leaks(hidden.output, [EMAIL, STORED_AS, PHONE]) == []
    assert (
        f"contact 41: email '{log_hash.token('email', EMAIL)}' but HAS_EMAIL "
        f"['{log_hash.token('email', STORED_AS)}']" in hidden.output
    )
    assert "secondary 41 has 0 LINKED_TO, not 1" in hidden.output
    assert (
        f"contacts 41 and 42 duplicate ({log_hash.token('email', EMAIL)}, "
        f"{log_hash.token('phone', PHONE)})" in hidden.output
    )
    assert f"contact 41: email '{EMAIL}' but HAS_EMAIL ['{STORED_AS}']" in shown.output
    assert f"contacts 41 and 42 duplicate ({EMAIL}, {PHONE})" in shown.output
    assert hidden.output.count("\n") == shown.output.count("\n")
