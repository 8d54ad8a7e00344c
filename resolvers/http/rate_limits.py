"""Per-key rate limits: each key may make `rate` requests a second, in bursts of up to
BURST_SECONDS' worth, counted in this process's memory (docs/SCALING.md: with N processes a key
may make up to N times its rate)."""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.storage import MemoryStorage
from limits.strategies import SlidingWindowCounterRateLimiter

from resolvers.core.access import Caller

BURST_SECONDS = 2


class RateLimits:
    def __init__(self) -> None:
        # limits' sliding window counter: constant time and memory per key, and over a window of
        # BURST_SECONDS it admits what a token bucket of that depth would, give or take the
        # weighting of the window before.
        self._limiter = SlidingWindowCounterRateLimiter(MemoryStorage())
        self._items: dict[float, RateLimitItem] = {}

    def retry_after(self, caller: Caller, cost: int = 1) -> int | None:
        """Counts `cost` requests of the caller's (a GraphQL document's further root fields:
        resolvers.graphql.root_fields); None if they are allowed, else the seconds to wait."""
        if caller.rate is None or caller.name is None:
            return None
        item = self._item(caller.rate)
        if self._limiter.hit(item, caller.name, cost=cost):
            return None
        stats = self._limiter.get_window_stats(item, caller.name)
        return max(1, math.ceil(stats.reset_time - time.time()))

    def _item(self, rate: float) -> RateLimitItem:
        item = self._items.get(rate)
        if item is None:
            # A rate under one request per BURST_SECONDS gets a window of one request.
            seconds = max(BURST_SECONDS, math.ceil(1 / rate))
            amount = max(1, round(rate * seconds))
            item = self._items[rate] = RateLimitItemPerSecond(amount, seconds)
        return item
