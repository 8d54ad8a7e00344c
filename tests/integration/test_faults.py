"""A short soak with crashes: Neo4j and the service are each SIGKILLed under load and started
again. Nothing acknowledged is lost, the graph stays consistent, and the service answers 503
while Neo4j is down and recovers by itself once it is back."""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from bench.soak import REQUEST_TIMEOUT, RETRY_TIME, soak
from graphdb.local.server import LocalNeo4j, LocalNeo4jConfig, free_port

# Most 503s come at once (the outage gate); requests caught in flight when Neo4j died take up
# to the retry budget or the request timeout, never longer (plus slack for a busy machine).
TYPICAL_503 = 0.5
SLOWEST_503 = REQUEST_TIMEOUT + RETRY_TIME + 5.0


async def test_crashes_of_neo4j_and_of_the_service_lose_nothing(tmp_path: Path) -> None:
    neo4j = LocalNeo4j(LocalNeo4jConfig(tmp_path / "neo4j", free_port(), free_port()))
    neo4j.start()
    try:
        args = argparse.Namespace(
            seconds=40, clients=16, pool=12, kill_neo4j=1, kill_service=1, services=1, workers=1
        )
        result = await soak(args, neo4j, tmp_path / "service.log")
    finally:
        neo4j.stop()

    tally = result.tally
    assert result.violations == []
    assert result.unreflected == 0
    assert set(tally.statuses) <= {"200", "503", "ConnectError", "ReadError", "RemoteProtocolError"}
    assert tally.statuses["503"] > 0
    assert statistics.median(tally.unavailable_seconds) < TYPICAL_503
    assert max(tally.unavailable_seconds) < SLOWEST_503
    [killed, back, service_killed, _] = result.events
    assert (killed.what, back.what) == ("SIGKILL Neo4j", "Neo4j back")
    # The same service process answered again once Neo4j was back, before it was itself killed.
    assert any(back.at < at < service_killed.at for at in tally.ack_times)
    assert max(tally.ack_times) > result.events[-1].at
