"""A webhook receiver on 127.0.0.1, in a thread: it keeps every request it takes, and can be
told to fail or to hang, to test retries and a service killed mid-delivery."""

from __future__ import annotations

import asyncio
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

# Seconds a test waits for deliveries before it fails.
WAIT = 60.0


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


@dataclass
class Behaviour:
    # The next this many requests are answered `fail_status`.
    fail_next: int = 0
    fail_status: int = 500
    # While set, requests wait (unanswered) until it is cleared.
    hold: threading.Event = field(default_factory=threading.Event)


class Receiver:
    def __init__(self) -> None:
        self.received: list[Received] = []
        # Requests that arrived, taken or not yet (held).
        self.arrivals = 0
        self.behaviour = Behaviour()
        self.arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.arrived:
                    receiver.arrivals += 1
                    receiver.arrived.notify_all()
                while receiver.behaviour.hold.is_set():
                    receiver.behaviour.hold.wait(0.05)
                    if not receiver.behaviour.hold.is_set():
                        break
                with receiver.arrived:
                    failing = receiver.behaviour.fail_next > 0
                    if failing:
                        receiver.behaviour.fail_next -= 1
                    else:
                        receiver.received.append(Received(dict(self.headers.items()), body))
                    receiver.arrived.notify_all()
                self.send_response(receiver.behaviour.fail_status if failing else 204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hook"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.behaviour.hold.clear()
        self._server.shutdown()
        self._server.server_close()

    def wait_for(self, count: int, timeout: float) -> bool:
        """Whether `count` requests have been taken within `timeout` seconds (blocking: for
        a service in another process)."""
        with self.arrived:
            return self.arrived.wait_for(lambda: len(self.received) >= count, timeout)

    async def until(self, count: int) -> bool:
        """wait_for, for a deliverer in this event loop: it goes on running meanwhile."""
        return await asyncio.to_thread(self.wait_for, count, WAIT)

    def wait_for_arrival(self, timeout: float = WAIT) -> bool:
        """Whether a request has arrived (held, if the receiver holds them)."""
        with self.arrived:
            return self.arrived.wait_for(lambda: self.arrivals > 0, timeout)

    def event_ids(self) -> list[str]:
        return [r.event["id"] for r in self.received]
