"""Change events from a real service process: webhooks that survive the service being killed
mid-delivery, and the clusterChanged subscription over graphql-transport-ws."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import websockets
from neo4j import AsyncDriver
from websockets.typing import Origin, Subprotocol

from graphdb.driver import Neo4jConnection
from tests.support.receiver import WAIT, Receiver
from tests.support.service import Service

GRAPHQL_TRANSPORT_WS = Subprotocol("graphql-transport-ws")
EVENTS = "MATCH (e:Event) RETURN e.id AS id ORDER BY e.at"
SUBSCRIBE = """
subscription Changes($id: Int) {
  clusterChanged(primaryContactId: $id) { id kind contactIds primaryBefore primaryAfter }
}
"""


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


def _service(neo4j: Neo4jConnection, tmp_path: Path, receiver: Receiver) -> Service:
    return Service(
        neo4j,
        tmp_path / "service.log",
        {
            "WEBHOOK_URLS": receiver.url,
            "WEBHOOK_SECRET": "a test secret of thirty-two bytes or more",
            "WARM_UP_SECONDS": "0",
            "AUTH": "off",
        },
    )


def _ws_url(service: Service) -> str:
    return service.url.replace("http://", "ws://") + "/graphql"


def _spec_merge(url: str) -> None:
    for email, phone in [
        ("george@hillvalley.edu", "919191"),
        ("biffsucks@hillvalley.edu", "717171"),
        ("george@hillvalley.edu", "717171"),
    ]:
        response = httpx.post(f"{url}/identify", json={"email": email, "phoneNumber": phone})
        assert response.status_code == 200


async def test_killed_mid_delivery_no_event_is_lost(
    neo4j: Neo4jConnection, driver: AsyncDriver, database: str, tmp_path: Path, receiver: Receiver
) -> None:
    receiver.behaviour.hold.set()
    service = _service(neo4j, tmp_path, receiver)
    await asyncio.to_thread(service.start)
    try:
        await asyncio.to_thread(_spec_merge, service.url)
        # The first event is on its way, held by the receiver: the service dies now.
        assert await asyncio.to_thread(receiver.wait_for_arrival)
        service.kill()
        receiver.behaviour.hold.clear()
        written, _, _ = await driver.execute_query(EVENTS, database_=database)
        await asyncio.to_thread(service.start)
        # Everything, the event under way when it died once more (marked by its id).
        assert await receiver.until(len(written) + 1)
    finally:
        service.kill()

    ids = receiver.event_ids()
    in_order = list(dict.fromkeys(ids))
    assert in_order == [record["id"] for record in written]
    assert len(ids) == len(written) + 1
    assert ids[0] == ids[1]


async def test_a_subscriber_sees_the_changes_of_its_cluster(
    neo4j: Neo4jConnection, tmp_path: Path, receiver: Receiver
) -> None:
    service = _service(neo4j, tmp_path, receiver)
    await asyncio.to_thread(service.start)
    try:
        async with httpx.AsyncClient(base_url=service.url) as client:
            made = await client.post("/identify", json={"email": "george@hillvalley.edu"})
            first = made.json()["contact"]["primaryContatctId"]
            await client.post("/identify", json={"email": "biff@hillvalley.edu"})
            async with (
                asyncio.timeout(WAIT),
                websockets.connect(_ws_url(service), subprotocols=[GRAPHQL_TRANSPORT_WS]) as ws,
            ):
                await ws.send(json.dumps({"type": "connection_init"}))
                assert json.loads(await ws.recv())["type"] == "connection_ack"
                subscribe = {"query": SUBSCRIBE, "variables": {"id": first}}
                await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": subscribe}))
                # The subscription follows the ledger from when its feed starts, which the
                # protocol does not announce: george gains a phone until one change is seen.
                # Biff's cluster changes each time too, and must never be sent.
                message = None
                for n in range(40):
                    await client.post(
                        "/identify",
                        json={"email": "george@hillvalley.edu", "phoneNumber": f"555{n:04d}"},
                    )
                    await client.post(
                        "/identify",
                        json={"email": "biff@hillvalley.edu", "phoneNumber": f"666{n:04d}"},
                    )
                    with contextlib.suppress(TimeoutError):
                        message = json.loads(await asyncio.wait_for(ws.recv(), 0.5))
                        break
    finally:
        service.kill()

    assert message is not None
    assert message["type"] == "next"
    event = message["payload"]["data"]["clusterChanged"]
    assert event["kind"] == "LINKED"
    assert event["primaryAfter"] == first


async def test_a_websocket_from_another_origin_or_for_a_mutation_is_refused(
    neo4j: Neo4jConnection, driver: AsyncDriver, database: str, tmp_path: Path, receiver: Receiver
) -> None:
    service = _service(neo4j, tmp_path, receiver)
    await asyncio.to_thread(service.start)
    try:
        with pytest.raises(websockets.InvalidStatus) as refused:
            async with websockets.connect(
                _ws_url(service),
                subprotocols=[GRAPHQL_TRANSPORT_WS],
                origin=Origin("https://evil.example"),
            ):
                pass
        async with (
            asyncio.timeout(WAIT),
            websockets.connect(_ws_url(service), subprotocols=[GRAPHQL_TRANSPORT_WS]) as ws,
        ):
            await ws.send(json.dumps({"type": "connection_init"}))
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            mutation = 'mutation { identify(input: {email: "doc@hillvalley.edu"}) { __typename } }'
            await ws.send(
                json.dumps({"id": "1", "type": "subscribe", "payload": {"query": mutation}})
            )
            answer = json.loads(await ws.recv())
    finally:
        service.kill()

    assert refused.value.response.status_code == 403
    errors = answer["payload"] if answer["type"] == "error" else answer["payload"]["errors"]
    assert errors[0]["extensions"]["code"] == "bad_request"
    contacts, _, _ = await driver.execute_query(
        "MATCH (c:Contact) RETURN count(c) AS n", database_=database
    )
    assert contacts[0]["n"] == 0
