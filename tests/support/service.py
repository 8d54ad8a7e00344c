"""The service as a real uvicorn process on a free loopback port: for the tests that need a real
process (workers, races across processes, the browser), the soak and the bench."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from graphdb.driver import Neo4jConnection
from graphdb.local.server import free_port


class Service:
    """Started and stopped by its PID, so it can be killed like a crashed process; in a process
    group of its own, so that a kill takes its uvicorn workers (WORKERS > 1) down with it."""

    def __init__(
        self,
        connection: Neo4jConnection,
        log: Path,
        settings: Mapping[str, str] | None = None,
        uvicorn_options: list[str] | None = None,
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.env = {
            **os.environ, "HOST": "127.0.0.1", "PORT": str(self.port), "LOG_LEVEL": "warning",
            "NEO4J_URI": connection.uri, "NEO4J_USER": connection.user,
            "NEO4J_PASSWORD": connection.password or "", "NEO4J_DATABASE": connection.database,
            **(settings or {}),
        }  # fmt: skip
        self.command = [sys.executable, "-m", "resolvers.runtime.serve"]
        if uvicorn_options is not None:
            # uvicorn's own command line on the worker app, to try its options one by one.
            self.command = [
                sys.executable, "-m", "uvicorn", "resolvers.runtime.worker:create_worker_app",
                "--factory", "--host", "127.0.0.1", "--port", str(self.port), "--no-access-log",
                *uvicorn_options,
            ]  # fmt: skip
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        if self.process is None:
            raise RuntimeError("the service is not started")
        return self.process.pid

    def start(self, timeout: float = 150.0) -> None:
        """Returns once /readyz answers 200: Neo4j reachable, and warmed up (WARM_UP_SECONDS)."""
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603
                self.command, env=self.env, stdout=log, stderr=log, start_new_session=True
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                if httpx.get(f"{self.url}/readyz", timeout=5).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"the service did not start; see {self.log}")

    def kill(self) -> None:
        if self.process is not None:
            # Orphaned workers would go on answering on the port, and hold it against a restart.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=30)

    def restart(self, settings: Mapping[str, str]) -> None:
        """Stopped, then started again on the same port with these settings changed."""
        self.stop()
        self.env.update(settings)
        self.start()

    def batch_totals(self, api_key: str | None = None) -> tuple[float, float]:
        """(requests, transactions) identify has committed so far, from /metrics: any worker's
        /metrics adds up every worker's. With keys required, `api_key` needs the metrics scope."""
        headers = {} if api_key is None else {"Authorization": f"Bearer {api_key}"}
        text = httpx.get(f"{self.url}/metrics", headers=headers, timeout=10).text
        requests = transactions = 0.0
        for family in text_string_to_metric_families(text):
            if family.name == "identity_identify_batch_size":
                for sample in family.samples:
                    if sample.name.endswith("_sum"):
                        requests += sample.value
                    elif sample.name.endswith("_count"):
                        transactions += sample.value
        return requests, transactions


async def start_all(services: Sequence[Service]) -> None:
    """Started side by side, as each spends its seconds mostly waiting; if one fails to start,
    all are stopped and its error raised."""
    outcomes = await asyncio.gather(
        *(asyncio.to_thread(service.start) for service in services), return_exceptions=True
    )
    failures = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
    if failures:
        stop_all(services)
        raise failures[0]


def stop_all(services: Sequence[Service]) -> None:
    """Each one stopped, or killed if it will not stop, whatever the others do."""
    hung: list[subprocess.TimeoutExpired] = []
    for service in services:
        try:
            service.stop()
        except subprocess.TimeoutExpired as error:
            service.kill()
            hung.append(error)
    if hung:
        raise hung[0]
