"""Who may do what: API keys, their scopes, and the cache that finds a key's rights.

A key is `idk_` and 43 URL-safe characters (256 random bits). Services keep what Neo4j says of
a key for at most KEY_CACHE_SECONDS, so a revoked key stops working on every worker within that
time, and a busy key costs Neo4j one lookup per worker every few seconds.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from graphdb.api_keys import ApiKeyRecord, ApiKeyStore

KEY_PREFIX = "idk_"
KEY_CACHE_SECONDS = 2.0
# Lookups remembered per process, known keys and unknown alike: a flood of made-up keys must
# neither grow memory nor send every request to Neo4j.
KEY_CACHE_ENTRIES = 10_000


class Scope(Enum):
    IDENTIFY = "identify"  # the identify mutation (and, with read, POST /identify)
    READ = "read"  # contact, and a cluster's emails, phones and contacts wherever they appear
    METRICS = "metrics"  # GET /metrics
    ADMIN = "admin"  # operator mutations


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
    """Finds the caller a key stands for, through a short-lived per-process cache."""

    def __init__(
        self,
        store: ApiKeyStore,
        default_rate: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._default_rate = default_rate
        self._clock = clock
        self._cache: OrderedDict[str, tuple[float, Caller | None]] = OrderedDict()

    async def caller(self, key: str) -> Caller | None:
        """None for a key that is unknown or revoked. Raises DatabaseUnavailable."""
        if not key.startswith(KEY_PREFIX) or len(key) > 128:
            return None
        digest = key_hash(key)
        now = self._clock()
        cached = self._cache.get(digest)
        if cached is not None and now - cached[0] < KEY_CACHE_SECONDS:
            return cached[1]
        record = await self._store.use(digest)
        caller = None if record is None else self._caller(record)
        self._cache[digest] = (self._clock(), caller)
        self._cache.move_to_end(digest)
        while len(self._cache) > KEY_CACHE_ENTRIES:
            self._cache.popitem(last=False)
        return caller

    def _caller(self, record: ApiKeyRecord) -> Caller:
        return Caller(
            name=record.name,
            scopes=parse_scopes(record.scopes),
            rate=record.rate if record.rate is not None else self._default_rate,
        )
