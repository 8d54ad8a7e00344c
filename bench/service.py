"""The service as a real uvicorn process on a free loopback port, for the soak and the bench."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

from graphdb.driver import Neo4jConnection
from graphdb.local_server import free_port


class Service:
    """Started and stopped by its PID, so it can be killed like a crashed process."""

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
        self.command = [sys.executable, "-m", "resolvers.serve"]
        if uvicorn_options is not None:
            # uvicorn's own command line on the worker app, to try its options one by one.
            self.command = [
                sys.executable, "-m", "uvicorn", "resolvers.worker:create_worker_app",
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
                self.command, env=self.env, stdout=log, stderr=log
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
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=30)
