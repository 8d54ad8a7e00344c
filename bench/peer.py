"""A peer implementation of the same legacy API, raced side by side in one bench run.

The peer is whatever serves POST /identify at `--peer URL` on loopback (for the one the issues
compare with, adityasuhane-06/BitSpeed on Express, Prisma and PostgreSQL, started from a snapshot
of its repository by ../shared/peers/bitspeed-run.sh: none of its code, and no script that builds
it, is kept here). It is seeded through its own API with the customers the service's database was
seeded with, so that "returning people" return to it too, then driven by wrk with the very
bodies the service got. Its CPU is not read: its processes are not ours.

Without a peer to run, the bench compares with the best figures measured of that one on this
machine (../shared/peers/README.md, 2026-12-07: new people 1,128-1,576 req/s, returning
1,093-1,577): bench.results.RECORDED_PEER_RATES.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx

from bench.seed import customer_email, customer_phone

SEEDING_CLIENTS = 16


def _customer_bodies(k: int) -> Iterator[dict[str, str]]:
    """What makes customer k in the service's seeded shape: a primary (a<k>, phone(k)), then a
    secondary sharing the phone (b<k>, phone(k))."""
    yield {"email": customer_email(k, "a"), "phoneNumber": customer_phone(k)}
    yield {"email": customer_email(k, "b"), "phoneNumber": customer_phone(k)}


async def _seed(url: str, customers: int) -> None:
    waiting = iter(range(customers))

    async def client(http: httpx.AsyncClient) -> None:
        # A customer's two requests one after the other, by one client: they share a phone,
        # and the second must find the first (the peer takes no locks).
        for k in waiting:
            for body in _customer_bodies(k):
                response = await http.post(f"{url}/identify", json=body)
                response.raise_for_status()

    async with httpx.AsyncClient(timeout=30) as http:
        await asyncio.gather(*(client(http) for _ in range(SEEDING_CLIENTS)))


def seed_peer(url: str, customers: int) -> None:
    asyncio.run(_seed(url, customers))
