"""Helpers for tests of the `identity` command: its environment, and the graph it leaves."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, LiteralString

from neo4j import Driver

from graphdb.driver import Neo4jConnection
from tests.support.database import WIPE

IDENTITY = str(Path(sys.executable).with_name("identity"))

# Every contact without its id (ids follow the order of work, which concurrency may change),
# with its cluster's primary named by its values.
CONTACTS: LiteralString = """
MATCH (c:Contact)
OPTIONAL MATCH (c)-[:LINKED_TO]->(linked:Contact)
WITH c, coalesce(linked, c) AS primary
RETURN c.email AS email, c.phoneNumber AS phone, toString(c.createdAt) AS createdAt,
       c.linkPrecedence AS precedence, primary.email AS primaryEmail,
       primary.phoneNumber AS primaryPhone
"""


def cli_env(connection: Neo4jConnection, **extra: str) -> dict[str, str]:
    """The environment that points the command at the tests' Neo4j."""
    env = {
        **os.environ,
        "NEO4J_URI": connection.uri,
        "NEO4J_USER": connection.user,
        "NEO4J_DATABASE": connection.database,
        **extra,
    }
    if connection.password:
        env["NEO4J_PASSWORD"] = connection.password
    return env


def wipe(driver: Driver, database: str) -> None:
    driver.execute_query(WIPE, database_=database)


def contacts(driver: Driver, database: str) -> list[tuple[Any, ...]]:
    records, _, _ = driver.execute_query(CONTACTS, database_=database)
    return sorted((tuple(record.values()) for record in records), key=repr)


def clusters(snapshot: list[tuple[Any, ...]]) -> int:
    return len({(row[4], row[5]) for row in snapshot})
