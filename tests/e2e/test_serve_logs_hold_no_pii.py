"""`identity serve` as an operator runs it, with two workers: uvicorn's own lines (a WebSocket
handshake, a request it cannot parse) hold no value either, the workers share the key the first
start made, and `identity log-hash` gives the hash the access line carries."""

from __future__ import annotations

import json
import signal
import socket
import stat
import subprocess
import time
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from neo4j import Driver

from graphdb.driver import Neo4jConnection
from graphdb.local.server import free_port
from tests.support.cli import IDENTITY, cli_env
from tests.support.logs import leaks

EMAIL, PHONE = "bob~@example.com", "73519"
ENCODED = f"email={quote(EMAIL)}&phone={PHONE}"


def _send_raw(port: int, request: bytes) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(request)
        connection.recv(4096)


def _wait_until_identify_answers(base: str, service: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 120
    while service.poll() is None and time.monotonic() < deadline:
        try:
            response = httpx.post(f"{base}/identify", json={"email": "up@example.com"}, timeout=30)
        except httpx.ConnectError:
            time.sleep(0.1)
            continue
        if response.status_code == 200:
            return
    pytest.fail(f"the service did not answer (exit code {service.poll()})")


def test_served_logs_hold_no_value_and_log_hash_finds_the_request(
    graph: Driver, neo4j: Neo4jConnection, tmp_path: Path
) -> None:
    port = free_port()
    key_file = tmp_path / "identity" / "log-hash-key"
    env = cli_env(
        neo4j,
        HOST="127.0.0.1",
        PORT=str(port),
        WORKERS="2",
        LOG_LEVEL="debug",
        LOG_HASH_KEY="",
        LOG_HASH_KEY_FILE=str(key_file),
        REQUEST_TIMEOUT="30",
    )
    base = f"http://127.0.0.1:{port}"
    with subprocess.Popen(  # noqa: S603 - our own command
        [IDENTITY, "serve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as service:
        try:
            _wait_until_identify_answers(base, service)
            # Each on a connection of its own, so that both workers serve some.
            for _ in range(10):
                httpx.post(f"{base}/identify", json={"email": "up@example.com"}, timeout=30)
            answer = httpx.post(
                f"{base}/identify?{ENCODED}",
                json={"email": EMAIL, "phoneNumber": PHONE},
                headers={"X-Request-ID": "find-me", "User-Agent": EMAIL, "Referer": PHONE},
                timeout=30,
            )
            _send_raw(
                port,
                f"GET /graphql?{ENCODED} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\n"
                "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n".encode(),
            )
            _send_raw(port, f"GET /?{EMAIL} {PHONE} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            _send_raw(port, f"{PHONE} /identify HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        finally:
            service.send_signal(signal.SIGINT)
            output, _ = service.communicate(timeout=60)
    hashed = subprocess.run(  # noqa: S603 - our own command
        [IDENTITY, "log-hash"],
        input=f"{EMAIL}\n{PHONE}\n",
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()

    assert answer.status_code == 200, output
    assert leaks(output, [EMAIL, PHONE]) == [], output
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    [access] = [line for line in lines if line.get("request_id") == "find-me"]
    assert access["identifiers"] == hashed
    up = {tuple(line["identifiers"]) for line in lines if line.get("outcome") == "nothing_new"}
    assert len(up) == 1, "the workers hash with one key"
