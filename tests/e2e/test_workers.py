"""The service as `make run` starts it, with WORKERS=2: both workers answer identify correctly
from the one graph, every request is logged once, and any worker's /metrics adds up both."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from neo4j import AsyncDriver

from graphdb.driver import Neo4jConnection
from graphdb.local.server import free_port
from tests.support.metrics import parse, value

ROOT = Path(__file__).resolve().parents[2]
# Generous: two workers planning every statement at once on a cold Neo4j take a while.
READY_WITHIN_SECONDS = 120
# Connections are spread over the workers by the kernel; they alternate in practice, so both
# have answered after a few. The bound only turns "never" into a failure.
MOST_REQUESTS = 60
PHONE = "5550100199"


@dataclass
class Service:
    url: str
    log: Path

    def pids_by_request(self) -> dict[str, list[int]]:
        """Access lines only: exactly one per request is expected."""
        pids: dict[str, list[int]] = {}
        for text in self.log.read_text().splitlines():
            if not text.startswith("{"):
                continue  # serve.py's own plain start-up lines
            line = json.loads(text)
            if line["logger"] == "resolvers.http.middleware.request_log":
                pids.setdefault(line["request_id"], []).append(line["pid"])
        return pids


async def _wait_until_ready(url: str, process: asyncio.subprocess.Process) -> None:
    async with asyncio.timeout(READY_WITHIN_SECONDS), httpx.AsyncClient() as client:
        while process.returncode is None:
            try:
                if (await client.get(f"{url}/readyz", timeout=30)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise AssertionError("the service exited before it was ready")


@pytest.fixture
async def two_workers(
    neo4j: Neo4jConnection, driver: AsyncDriver, tmp_path: Path
) -> AsyncIterator[Service]:
    port = free_port()
    env = {
        **os.environ,
        "HOST": "127.0.0.1", "PORT": str(port), "WORKERS": "2",
        "LOG_FORMAT": "json", "LOG_LEVEL": "info", "REQUEST_TIMEOUT": "30", "WARM_UP_SECONDS": "0",
        "NEO4J_URI": neo4j.uri, "NEO4J_USER": neo4j.user,
        "NEO4J_PASSWORD": neo4j.password or "", "NEO4J_DATABASE": neo4j.database,
    }  # fmt: skip
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    log = tmp_path / "service.log"
    with log.open("wb") as output:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "resolvers.runtime.serve",
            cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT,
            # A group of its own, so that a hung shutdown can be ended with its workers.
            start_new_session=True,
        )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        await _wait_until_ready(url, process)
        yield Service(url, log)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), timeout=60)
        except TimeoutError:
            os.killpg(process.pid, signal.SIGKILL)
            await process.wait()
            raise


async def _on_a_new_connection(
    service: Service,
    method: str,
    path: str,
    body: dict[str, str] | None = None,
    request_id: str | None = None,
) -> httpx.Response:
    headers = {"X-Request-ID": request_id} if request_id else {}
    async with httpx.AsyncClient(base_url=service.url, timeout=30) as client:
        return await client.request(method, path, json=body, headers=headers)


async def test_two_workers_share_one_graph_one_log_line_each_and_summed_metrics(
    two_workers: Service,
) -> None:
    emails: list[str] = []
    primary: int | None = None
    pids_seen: set[int] = set()
    while len(pids_seen) < 2 or len(emails) < 4:
        assert len(emails) < MOST_REQUESTS, f"only worker(s) {pids_seen} answered"
        email = f"customer{len(emails)}@hillvalley.edu"
        request_id = f"workers-{len(emails)}"
        response = await _on_a_new_connection(
            two_workers, "POST", "/identify", {"email": email, "phoneNumber": PHONE}, request_id
        )
        emails.append(email)
        assert response.status_code == 200
        contact = response.json()["contact"]
        # Each sighting joins the one cluster, whichever worker made the ones before it.
        primary = primary or contact["primaryContatctId"]
        assert contact["primaryContatctId"] == primary
        assert contact["emails"] == emails
        assert contact["phoneNumbers"] == [PHONE]
        assert len(contact["secondaryContactIds"]) == len(emails) - 1
        assert primary not in contact["secondaryContactIds"]
        [pid] = two_workers.pids_by_request()[request_id]
        pids_seen.add(pid)

    for _ in range(4):
        response = await _on_a_new_connection(two_workers, "GET", "/metrics")
        samples = parse(response.text)
        assert value(samples, "identity_identify_outcomes_total", outcome="created_primary") == 1
        assert (
            value(samples, "identity_identify_outcomes_total", outcome="added_secondary")
            == len(emails) - 1
        )
        assert value(
            samples, "identity_http_requests_total", method="POST", route="/identify", status="200"
        ) == len(emails)

    access_lines = two_workers.pids_by_request()
    assert all(len(access_lines[f"workers-{n}"]) == 1 for n in range(len(emails)))
    assert "uvicorn.access" not in two_workers.log.read_text()
