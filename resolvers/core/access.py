"""Who may do what: API keys, their scopes, and each process's copy of the keys.

A key is `idk_` and 43 URL-safe characters (256 random bits). Each process holds every key's
hash and rights in memory, taken from Neo4j at most KEY_CACHE_SECONDS ago (counted from when
that read began): a revoked key stops working within that time on every worker, a made-up key
is refused without a query, and Neo4j sees one small transaction per process every few seconds
while it serves, however many keys and requests there are.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from graphdb.api_keys import ApiKeyRecord, ApiKeyStore
from graphdb.errors import DatabaseUnavailable

log = logging.getLogger(__name__)

KEY_PREFIX = "idk_"
KEY_CACHE_SECONDS = 2.0
UNKNOWN_KEY_READ_SECONDS = 0.5


class Scope(Enum):
    IDENTIFY = "identify"  # the identify mutation (and, with read, POST /identify)
    READ = "read"  # contact, and a cluster's emails, phones and contacts wherever they appear
    METRICS = "metrics"  # GET /metrics
    ADMIN = "admin"  # operator mutations
    STREAM = "stream"  # clusterChanged without primaryContactId: every cluster's changes, live


@dataclass(frozen=True)
class Caller:
    """Who a request acts for. With authentication off, everyone is the unnamed caller with every
    scope."""

    name: str | None
    scopes: frozenset[Scope]
    # Requests per second allowed; None: no limit.
    rate: float | None

    def may(self, *needed: Scope) -> bool:
        return set(needed) <= self.scopes


ANYONE = Caller(name=None, scopes=frozenset(Scope), rate=None)


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def parse_scopes(names: list[str] | tuple[str, ...]) -> frozenset[Scope]:
    """Scope names as stored; names a newer version wrote and this one does not know are
    dropped rather than granted."""
    known = {scope.value: scope for scope in Scope}
    return frozenset(known[name] for name in names if name in known)


class Authenticator:
    """The caller a key stands for, from the keys read from Neo4j at most KEY_CACHE_SECONDS ago.

    While Neo4j cannot be read, the keys last read go on serving (a revocation is a write to
    Neo4j, so none can have happened since, but for one made in the last seconds before it went
    away); until a first read succeeds, callers get DatabaseUnavailable.
    """

    def __init__(
        self,
        store: ApiKeyStore,
        default_rate: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._default_rate = default_rate
        self._clock = clock
        self._keys: dict[str, Caller] | None = None
        self._read_at = -math.inf  # when the read that gave _keys began
        self._tried_at = -math.inf  # when the last read began, successful or not
        self._reading = asyncio.Lock()
        # Names of the keys used since the last read, for their last use.
        self._used: set[str] = set()

    async def caller(self, key: str) -> Caller | None:
        """None for a key that is unknown or revoked. Raises DatabaseUnavailable."""
        if not key.startswith(KEY_PREFIX) or len(key) > 128:
            return None
        digest = key_hash(key)
        caller = (await self._current(KEY_CACHE_SECONDS)).get(digest)
        if caller is None:
            # Perhaps made a moment ago: a new key works within UNKNOWN_KEY_READ_SECONDS, while
            # made-up ones cost Neo4j at most one read per process that often.
            caller = (await self._current(UNKNOWN_KEY_READ_SECONDS)).get(digest)
        if caller is not None and caller.name is not None:
            self._used.add(caller.name)
        return caller

    async def flush(self) -> None:
        """Records the last uses not yet written (at shutdown)."""
        if self._used:
            await self._read()

    async def _current(self, max_age: float) -> dict[str, Caller]:
        """The keys, as read at most max_age seconds ago."""
        if self._keys is not None and self._clock() - self._read_at < max_age:
            return self._keys
        # One read at a time: requests arriving meanwhile wait for it and share its answer.
        async with self._reading:
            now = self._clock()
            if self._keys is not None:
                if now - self._read_at < max_age:
                    return self._keys
                if self._tried_at > self._read_at and now - self._tried_at < KEY_CACHE_SECONDS:
                    return self._keys  # Neo4j failed a moment ago: do not wait on it again yet
            try:
                return await self._read()
            except DatabaseUnavailable:
                if self._keys is None:
                    raise
                log.warning("API keys not refreshed (Neo4j unavailable); using those read last")
                return self._keys

    async def _read(self) -> dict[str, Caller]:
        started = self._clock()
        self._tried_at = started
        used, self._used = self._used, set()
        try:
            records = await self._store.refresh(sorted(used))
        except BaseException:
            self._used |= used
            raise
        self._keys = {record.key_hash: self._caller(record) for record in records}
        self._read_at = started
        return self._keys

    def _caller(self, record: ApiKeyRecord) -> Caller:
        return Caller(
            name=record.name,
            scopes=parse_scopes(record.scopes),
            rate=record.rate if record.rate is not None else self._default_rate,
        )
