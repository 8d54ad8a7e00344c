"""Slow and idle clients against a real uvicorn process, over raw sockets: a body that does not
arrive in time gets 408 and the connection closed, an idle keep-alive connection is closed, and
past MAX_CONNECTIONS new requests get 503."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import httpx
import pytest

from graphdb.driver import Neo4jConnection
from tests.support.service import Service

KEEP_ALIVE_SECONDS = 1
MAX_CONNECTIONS = 4
# Bounds that turn "never" into a failure; each thing awaited here happens within a second or two.
WITHIN_SECONDS = 30
# uvicorn's own keep-alive is 5 s: closing well before that shows KEEP_ALIVE_SECONDS applies.
UVICORN_DEFAULT_KEEP_ALIVE = 5


@pytest.fixture(scope="module")
def service(neo4j: Neo4jConnection, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    running = Service(
        neo4j,
        Path(tmp_path_factory.mktemp("slow-clients")) / "service.log",
        {
            "WARM_UP_SECONDS": "0",
            "BODY_READ_TIMEOUT": "1",
            "KEEP_ALIVE_SECONDS": str(KEEP_ALIVE_SECONDS),
            "MAX_CONNECTIONS": str(MAX_CONNECTIONS),
            # The limit is per process (uvicorn's --limit-concurrency): with two workers the
            # kernel may hand the held connections to one and the request to the other.
            "WORKERS": "1",
        },
    )
    running.start()
    try:
        yield running
    finally:
        running.stop()


@asynccontextmanager
async def _connection(
    service: Service, sent: bytes
) -> AsyncIterator[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    reader, writer = await asyncio.open_connection("127.0.0.1", service.port)
    try:
        writer.write(sent)
        await writer.drain()
        yield reader, writer
    finally:
        writer.close()
        await writer.wait_closed()


async def _response(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    """The status line and headers, and the body (by its Content-Length)."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return head, await reader.readexactly(length)


async def _served(service: Service) -> None:
    """Returns once the service answers again (the connections of a test before may still be
    counted towards MAX_CONNECTIONS for a moment after they close)."""
    async with asyncio.timeout(WITHIN_SECONDS), httpx.AsyncClient() as client:
        while True:
            if (await client.get(f"{service.url}/healthz")).status_code == 200:
                return
            await asyncio.sleep(0.05)


async def test_a_body_that_does_not_arrive_in_time_gets_408_and_the_connection_closed(
    service: Service,
) -> None:
    await _served(service)
    request = (
        b"POST /identify HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b'Content-Length: 100\r\n\r\n{"email": "doc@'
    )
    async with _connection(service, request) as (reader, _), asyncio.timeout(WITHIN_SECONDS):
        head, body = await _response(reader)
        after = await reader.read()

    assert head.startswith(b"HTTP/1.1 408 ")
    assert b'"request_timeout"' in body
    assert after == b""  # closed by the service


async def test_an_idle_keep_alive_connection_is_closed(service: Service) -> None:
    await _served(service)
    request = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    async with _connection(service, request) as (reader, _), asyncio.timeout(WITHIN_SECONDS):
        head, _ = await _response(reader)
        answered = time.monotonic()
        after = await reader.read()
        idle = time.monotonic() - answered

    assert head.startswith(b"HTTP/1.1 200 ")
    assert after == b""
    assert idle < UVICORN_DEFAULT_KEEP_ALIVE - 1


async def test_past_max_connections_new_requests_get_503(service: Service) -> None:
    await _served(service)
    # Connections that never finish their headers (uvicorn puts no deadline on them).
    unfinished = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    async with AsyncExitStack() as held:
        for _ in range(MAX_CONNECTIONS - 1):
            await held.enter_async_context(_connection(service, unfinished))
        request = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        async with _connection(service, request) as (reader, _), asyncio.timeout(WITHIN_SECONDS):
            head, _ = await _response(reader)

    assert head.startswith(b"HTTP/1.1 503 ")
    await _served(service)
