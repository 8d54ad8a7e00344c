"""The API keys Neo4j keeps: created, looked up by hash, listed and revoked by name.

Only the SHA-256 of a key is stored. Keys are 256 random bits, so a fast hash is enough: there
is no dictionary to try against it, and a lookup must cost microseconds on every request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, LiteralString

from neo4j import AsyncManagedTransaction
from neo4j.exceptions import ConstraintError

from graphdb.cypher import api_keys as cypher
from graphdb.store import Store


class KeyNameTaken(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(f"A key named {name!r} exists; revoke it first or choose another name.")


@dataclass(frozen=True)
class ApiKeyRecord:
    name: str
    key_hash: str
    scopes: tuple[str, ...]
    # Requests per second; None: the service's default.
    rate: float | None
    created_at: datetime
    last_used_at: datetime | None

    @classmethod
    def from_node(cls, node: Any) -> ApiKeyRecord:
        last_used = node.get("lastUsedAt")
        return cls(
            name=node["name"],
            key_hash=node["hash"],
            scopes=tuple(node["scopes"]),
            rate=node.get("rate"),
            created_at=node["createdAt"].to_native(),
            last_used_at=None if last_used is None else last_used.to_native(),
        )


class ApiKeyStore(Store):
    """API keys in Neo4j (graphdb.store: one bounded transaction per method)."""

    async def create(
        self, name: str, key_hash: str, scopes: tuple[str, ...], rate: float | None
    ) -> ApiKeyRecord:
        params = {"name": name, "hash": key_hash, "scopes": list(scopes), "rate": rate}
        try:
            async with self._session() as session:
                records = await session.execute_write(_keys, cypher.CREATE_KEY, params)
        except ConstraintError as error:
            raise KeyNameTaken(name) from error
        return records[0]

    async def refresh(self, used: list[str]) -> list[ApiKeyRecord]:
        """Records that the keys named `used` were used, then returns every key."""
        async with self._session() as session:
            return await session.execute_write(_record_use_and_list, used)

    async def all_keys(self) -> list[ApiKeyRecord]:
        async with self._session() as session:
            return await session.execute_read(_keys, cypher.LIST_KEYS, {})

    async def revoke(self, name: str) -> bool:
        async with self._session() as session:
            revoked: int = await session.execute_write(_revoke, name)
        return revoked > 0


async def _keys(
    tx: AsyncManagedTransaction, statement: LiteralString, params: dict[str, Any]
) -> list[ApiKeyRecord]:
    result = await tx.run(statement, params)
    return [ApiKeyRecord.from_node(record["key"]) async for record in result]


async def _record_use_and_list(tx: AsyncManagedTransaction, used: list[str]) -> list[ApiKeyRecord]:
    if used:
        await (await tx.run(cypher.RECORD_USE, names=used)).consume()
    return await _keys(tx, cypher.LIST_KEYS, {})


async def _revoke(tx: AsyncManagedTransaction, name: str) -> int:
    result = await tx.run(cypher.REVOKE_KEY, name=name)
    record = await result.single(strict=True)
    revoked: int = record["revoked"]
    return revoked
