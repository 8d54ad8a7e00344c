"""WebSockets held to the rules requests are held to, for as long as they stay open: a revoked
key's sockets close, a key holds a bounded number open, messages are bounded, every cluster's
changes need a scope of their own, and each socket writes access lines."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
import websockets
from neo4j import GraphDatabase
from websockets.typing import Subprotocol

from graphdb.api_keys import ApiKeyStore
from graphdb.driver import Neo4jConnection, create_driver
from resolvers.core.access import KEY_CACHE_SECONDS, Scope, key_hash, new_key
from tests.support.database import WIPE
from tests.support.receiver import WAIT
from tests.support.service import Service

GRAPHQL_TRANSPORT_WS = Subprotocol("graphql-transport-ws")
ALL_CLUSTERS = "subscription { clusterChanged { kind primaryAfter } }"
# Sockets one key may hold open here (MAX_SOCKETS_PER_KEY).
PER_KEY = 2
# The promise: a revoked key's sockets close as soon as its requests fail, and a second more.
REVOKED_WITHIN_SECONDS = KEY_CACHE_SECONDS + 3.0

Keys = dict[str, str]


async def _make_keys(connection: Neo4jConnection) -> Keys:
    scopes = {
        "reader": (Scope.READ,),
        "streamer": (Scope.READ, Scope.STREAM),
        "doomed": (Scope.READ, Scope.STREAM),
        "writer": (Scope.IDENTIFY, Scope.READ),
        "capped": (Scope.READ,),
    }
    keys = {name: new_key() for name in scopes}
    async with create_driver(connection) as driver:
        store = ApiKeyStore(driver, connection.database)
        for name, held in scopes.items():
            await store.create(name, key_hash(keys[name]), tuple(s.value for s in held), 1000)
    return keys


@pytest.fixture(scope="module")
def guarded(
    neo4j: Neo4jConnection, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Service, Keys]]:
    auth = (neo4j.user, neo4j.password) if neo4j.password else None
    with GraphDatabase.driver(neo4j.uri, auth=auth) as driver:
        driver.execute_query(WIPE, database_=neo4j.database)
    keys = asyncio.run(_make_keys(neo4j))
    service = Service(
        neo4j,
        Path(tmp_path_factory.mktemp("sockets")) / "service.log",
        {
            "AUTH": "required", "WORKERS": "1", "WARM_UP_SECONDS": "0", "LOG_LEVEL": "info",
            "LOG_FORMAT": "json", "MAX_SOCKETS_PER_KEY": str(PER_KEY),
        },
    )  # fmt: skip
    service.start()
    try:
        yield service, keys
    finally:
        service.stop()


@asynccontextmanager
async def _socket(service: Service, key: str) -> AsyncIterator[websockets.ClientConnection]:
    """A socket past connection_ack."""
    async with websockets.connect(
        service.url.replace("http://", "ws://") + "/graphql",
        subprotocols=[GRAPHQL_TRANSPORT_WS],
        additional_headers={"Authorization": f"Bearer {key}"},
    ) as ws:
        await ws.send(json.dumps({"type": "connection_init"}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        yield ws


async def _subscribe(ws: websockets.ClientConnection, query: str) -> None:
    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))


async def _admitted(service: Service, key: str) -> int:
    """101 when a socket of this key is admitted, else the handshake's refusal."""
    try:
        async with _socket(service, key):
            return 101
    except websockets.InvalidStatus as refused:
        return refused.response.status_code


async def _read_until_closed(ws: websockets.ClientConnection) -> None:
    while True:
        await ws.recv()


async def test_every_cluster_s_changes_need_the_stream_scope(
    guarded: tuple[Service, Keys],
) -> None:
    service, keys = guarded
    async with asyncio.timeout(WAIT):
        async with _socket(service, keys["reader"]) as reader:
            await _subscribe(reader, ALL_CLUSTERS)
            refused = json.loads(await reader.recv())
        async with _socket(service, keys["streamer"]) as streamer:
            await _subscribe(streamer, ALL_CLUSTERS)
            # The feed starts a moment after the subscribe, unannounced: identify until one
            # change is seen.
            seen = None
            for n in range(40):
                async with httpx.AsyncClient(base_url=service.url) as client:
                    await client.post(
                        "/identify",
                        json={"email": f"doc{n}@hillvalley.edu"},
                        headers={"Authorization": f"Bearer {keys['writer']}"},
                    )
                try:
                    seen = json.loads(await asyncio.wait_for(streamer.recv(), 0.5))
                    break
                except TimeoutError:
                    continue

    errors = refused["payload"] if refused["type"] == "error" else refused["payload"]["errors"]
    assert errors[0]["extensions"]["code"] == "forbidden"
    assert seen is not None
    assert seen["payload"]["data"]["clusterChanged"]["kind"] == "CREATED"


async def test_a_revoked_key_s_socket_is_closed(
    guarded: tuple[Service, Keys], neo4j: Neo4jConnection
) -> None:
    service, keys = guarded
    async with _socket(service, keys["doomed"]) as ws:
        await _subscribe(ws, ALL_CLUSTERS)
        async with create_driver(neo4j) as driver:
            assert await ApiKeyStore(driver, neo4j.database).revoke("doomed")
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(_read_until_closed(ws), REVOKED_WITHIN_SECONDS)

    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4403


async def test_a_key_holds_a_bounded_number_of_sockets(guarded: tuple[Service, Keys]) -> None:
    service, keys = guarded
    async with asyncio.timeout(WAIT):
        async with _socket(service, keys["capped"]), _socket(service, keys["capped"]):
            with pytest.raises(websockets.InvalidStatus) as refused:
                async with _socket(service, keys["capped"]):
                    pass
            # Another key is counted on its own.
            async with _socket(service, keys["reader"]):
                pass
        # Closed, they count no more, once the service has seen them close (a moment after
        # the client has): until then a handshake may still be refused.
        refusals = []
        while (status := await _admitted(service, keys["capped"])) != 101:
            refusals.append(status)

    assert refused.value.response.status_code == 403
    assert set(refusals) <= {403}


async def test_a_message_past_64_kib_closes_the_socket(guarded: tuple[Service, Keys]) -> None:
    service, keys = guarded
    async with asyncio.timeout(WAIT), _socket(service, keys["reader"]) as ws:
        huge = "x" * (65 * 1024)
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": huge}}))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()

    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1009


async def test_each_socket_writes_an_access_line_when_it_opens_and_closes(
    guarded: tuple[Service, Keys],
) -> None:
    service, keys = guarded
    async with asyncio.timeout(WAIT):
        async with _socket(service, keys["streamer"]):
            pass
        lines: list[dict[str, object]] = []
        while not any(line.get("socket") == "closed" for line in lines):
            await asyncio.sleep(0.05)
            lines = [
                json.loads(text)
                for text in service.log.read_text().splitlines()
                if text.startswith("{") and '"socket"' in text and '"streamer"' in text
            ]

    assert {(line["socket"], line["route"], line["key"]) for line in lines} >= {
        ("open", "/graphql", "streamer"),
        ("closed", "/graphql", "streamer"),
    }
    # And one per subscribe, saying what it follows (the first test's, by the same key).
    subscribes = [
        json.loads(text)
        for text in service.log.read_text().splitlines()
        if text.startswith("{") and '"subscribe"' in text and '"streamer"' in text
    ]
    assert {line["subscribe"] for line in subscribes} == {"all"}
