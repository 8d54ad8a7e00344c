"""API keys on a real Neo4j: stored as hashes, found by key, listed, revoked, remembered by each
process for KEY_CACHE_SECONDS at most; and the `identity keys` commands."""

from __future__ import annotations

import asyncio
import subprocess

import pytest
from neo4j import AsyncDriver, Driver

from graphdb.api_keys import ApiKeyRecord, ApiKeyStore, KeyNameTaken
from graphdb.driver import Neo4jConnection, ensure_constraints
from graphdb.errors import DatabaseUnavailable
from resolvers.core import access
from resolvers.core.access import KEY_CACHE_SECONDS, Authenticator, Scope, key_hash, new_key
from tests.support.cli import IDENTITY, cli_env


class CountedStore(ApiKeyStore):
    """The real store, counting the reads the authenticator makes of it."""

    reads = 0

    async def refresh(self, used: list[str]) -> list[ApiKeyRecord]:
        self.reads += 1
        return await super().refresh(used)


@pytest.fixture
async def store(driver: AsyncDriver, database: str) -> CountedStore:
    # The service's constraints: a key's name is unique by one.
    await ensure_constraints(driver, database)
    return CountedStore(driver, database)


async def test_neo4j_keeps_the_hash_of_a_key_never_the_key(
    store: CountedStore, driver: AsyncDriver, database: str
) -> None:
    key = new_key()

    await store.create("shop", key_hash(key), ("identify", "read"), 5.0)

    records, _, _ = await driver.execute_query(
        "MATCH (k:ApiKey) RETURN properties(k) AS p", database_=database
    )
    stored = str(records[0]["p"])
    assert key not in stored
    assert key[len(access.KEY_PREFIX) :] not in stored
    assert key_hash(key) in stored


def test_keys_are_random_and_long() -> None:
    keys = {new_key() for _ in range(1000)}

    assert len(keys) == 1000
    # 32 random bytes, URL-safe base64: 256 bits.
    assert all(len(key) == len(access.KEY_PREFIX) + 43 for key in keys)


async def test_a_key_stands_for_its_name_scopes_and_rate_until_it_is_revoked(
    store: CountedStore,
) -> None:
    key = new_key()
    await store.create("frontend", key_hash(key), ("identify",), None)
    clock = [1000.0]
    authenticator = Authenticator(store, default_rate=7.0, clock=lambda: clock[0])

    caller = await authenticator.caller(key)
    assert caller is not None
    assert (caller.name, caller.scopes, caller.rate) == (
        "frontend",
        frozenset({Scope.IDENTIFY}),
        7.0,
    )
    assert await store.revoke("frontend")
    # Remembered for a moment...
    clock[0] += KEY_CACHE_SECONDS / 2
    assert await authenticator.caller(key) == caller
    # ...and no longer.
    clock[0] += KEY_CACHE_SECONDS / 2
    assert await authenticator.caller(key) is None
    assert not await store.revoke("frontend")


async def test_made_up_keys_are_refused_without_asking_neo4j(store: CountedStore) -> None:
    authenticator = Authenticator(store, default_rate=7.0, clock=lambda: 1000.0)
    await store.create("shop", key_hash(new_key()), ("identify",), None)

    refused = [await authenticator.caller(new_key()) for _ in range(200)]

    assert refused == [None] * 200
    assert store.reads == 1
    assert await authenticator.caller("not-a-key") is None


async def test_requests_arriving_together_share_one_read(store: CountedStore) -> None:
    key = new_key()
    await store.create("shop", key_hash(key), ("read",), None)
    authenticator = Authenticator(store, default_rate=7.0)

    callers = await asyncio.gather(*(authenticator.caller(key) for _ in range(50)))

    assert {caller.name if caller else None for caller in callers} == {"shop"}
    assert store.reads == 1


async def test_the_keys_read_last_serve_while_neo4j_is_away(
    store: CountedStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = new_key()
    await store.create("shop", key_hash(key), ("read",), None)
    clock = [1000.0]
    authenticator = Authenticator(store, default_rate=7.0, clock=lambda: clock[0])
    assert await authenticator.caller(key) is not None

    async def unavailable(_used: list[str]) -> list[ApiKeyRecord]:
        raise DatabaseUnavailable("Neo4j is unavailable: test")

    monkeypatch.setattr(store, "refresh", unavailable)
    clock[0] += KEY_CACHE_SECONDS

    caller = await authenticator.caller(key)
    assert caller is not None
    assert caller.name == "shop"
    fresh = Authenticator(store, default_rate=7.0)
    with pytest.raises(DatabaseUnavailable):
        await fresh.caller(key)


async def test_a_name_is_one_key(store: CountedStore) -> None:
    await store.create("shop", key_hash(new_key()), ("identify",), None)

    with pytest.raises(KeyNameTaken):
        await store.create("shop", key_hash(new_key()), ("read",), None)


async def test_a_read_records_the_last_use_of_the_keys_used_since_the_one_before(
    store: CountedStore,
) -> None:
    key = new_key()
    await store.create("shop", key_hash(key), ("identify",), None)
    await store.create("idle", key_hash(new_key()), ("identify",), None)
    clock = [1000.0]
    authenticator = Authenticator(store, default_rate=7.0, clock=lambda: clock[0])
    await authenticator.caller(key)
    before = {record.name: record.last_used_at for record in await store.all_keys()}

    clock[0] += KEY_CACHE_SECONDS
    await authenticator.caller(key)

    after = {record.name: record for record in await store.all_keys()}
    assert before == {"idle": None, "shop": None}
    assert after["idle"].last_used_at is None
    last_used = after["shop"].last_used_at
    assert last_used is not None
    assert last_used >= after["shop"].created_at


def _identity(neo4j: Neo4jConnection, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603
        [IDENTITY, "keys", *args],
        env=cli_env(neo4j),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_keys_commands_create_list_and_revoke(neo4j: Neo4jConnection, graph: Driver) -> None:
    created = _identity(
        neo4j, "create", "--name", "shop", "--scope", "identify", "--scope", "read", "--rate", "5"
    )
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip().splitlines()[-1]
    assert key.startswith(access.KEY_PREFIX)

    listed = _identity(neo4j, "list")
    assert listed.returncode == 0, listed.stderr
    [row] = [line for line in listed.stdout.splitlines() if line.startswith("shop")]
    assert "identify,read" in row
    assert "5/s" in row
    assert "never" in row
    assert key not in listed.stdout
    records, _, _ = graph.execute_query("MATCH (k:ApiKey) RETURN k.hash AS hash")
    assert [record["hash"] for record in records] == [key_hash(key)]

    taken = _identity(neo4j, "create", "--name", "shop", "--scope", "read")
    assert taken.returncode != 0
    assert "exists" in taken.stderr

    revoked = _identity(neo4j, "revoke", "shop")
    assert revoked.returncode == 0, revoked.stderr
    assert _identity(neo4j, "revoke", "shop").returncode != 0
    assert "No keys." in _identity(neo4j, "list").stdout


def test_the_create_command_refuses_unknown_scopes_and_odd_names(
    neo4j: Neo4jConnection, graph: Driver
) -> None:
    assert _identity(neo4j, "create", "--name", "shop", "--scope", "everything").returncode == 2
    assert _identity(neo4j, "create", "--name", "a b", "--scope", "read").returncode == 2
    assert _identity(neo4j, "create", "--name", "shop").returncode == 2
    records, _, _ = graph.execute_query("MATCH (k:ApiKey) RETURN count(k) AS n")
    assert records[0]["n"] == 0
