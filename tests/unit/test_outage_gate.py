"""The outage gate: shut by an unreachable Neo4j, opened again only by a successful probe."""

from __future__ import annotations

import asyncio

import pytest
from neo4j.exceptions import ServiceUnavailable

from graphdb.errors import DatabaseUnavailable
from graphdb.outage import OutageGate


async def _fail_unreachable(gate: OutageGate) -> None:
    with pytest.raises(ServiceUnavailable):
        async with gate.passage():
            raise ServiceUnavailable("connection refused")


async def test_an_unreachable_neo4j_shuts_the_gate_until_a_probe_succeeds() -> None:
    outcomes: list[Exception | None] = [RuntimeError("a bug in the probe"), None]
    probed = asyncio.Event()

    async def probe() -> None:
        outcome = outcomes.pop(0)
        if outcome is not None:
            raise outcome
        probed.set()

    gate = OutageGate(probe, probe_interval=0.0)
    await _fail_unreachable(gate)

    with pytest.raises(DatabaseUnavailable):
        async with gate.passage():
            pass
    await asyncio.wait_for(probed.wait(), timeout=5)

    async with gate.passage():
        pass
    assert outcomes == []
    await gate.close()


async def test_other_failures_leave_the_gate_open() -> None:
    async def probe() -> None:
        raise AssertionError("no probe expected")

    gate = OutageGate(probe)
    with pytest.raises(TimeoutError):
        async with gate.passage():
            raise TimeoutError

    async with gate.passage():
        pass
    await gate.close()
