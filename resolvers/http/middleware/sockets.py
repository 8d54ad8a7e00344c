"""WebSockets held to what requests are held to, for as long as they stay open.

A key may hold MAX_SOCKETS_PER_KEY sockets open in a process; past that a handshake is refused
(403, as ASGI closes a handshake). While a socket is open its key is asked after again every
second, from the same keys read from Neo4j every KEY_CACHE_SECONDS that requests are checked
against: a revoked key's sockets close (4403) within the 2 s its requests begin to fail. Each
socket writes an access line when it opens and when it closes (the messages themselves are
bounded by uvicorn's ws_max_size: resolvers.runtime.serve).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager, suppress

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from resolvers.core.access import KEY_CACHE_SECONDS
from resolvers.runtime.logs import log_access

log = logging.getLogger(__name__)

# The close code a revoked key's socket gets: 4000-4999 are the application's; 4403 mirrors 403.
REVOKED = 4403
CHECK_SECONDS = KEY_CACHE_SECONDS / 2


class Sockets:
    def __init__(self, per_key: int) -> None:
        self._per_key = per_key
        self._open: dict[str, int] = {}

    @contextmanager
    def held(self, key_name: str) -> Iterator[bool]:
        """One more socket of this key while inside; False (and none counted) when the key holds
        as many as it may."""
        if self._open.get(key_name, 0) >= self._per_key:
            yield False
            return
        self._open[key_name] = self._open.get(key_name, 0) + 1
        try:
            yield True
        finally:
            self._open[key_name] -= 1
            if not self._open[key_name]:
                del self._open[key_name]

    async def watched(
        self,
        app: ASGIApp,
        scope: Scope,
        receive: Receive,
        send: Send,
        still_valid: Callable[[], Awaitable[bool]],
    ) -> None:
        """Serves the socket; once `still_valid` says no, closes it (REVOKED) and tells the app
        the client has gone, so that its subscriptions end."""
        socket = _Watched(receive, send)
        watching = asyncio.create_task(socket.watch(still_valid))
        opened = time.perf_counter()
        _line(scope, "open", 101, opened)
        try:
            await app(scope, socket.receive, socket.send)
        finally:
            watching.cancel()
            with suppress(asyncio.CancelledError):
                await watching
            _line(scope, "closed", REVOKED if socket.revoked.is_set() else 1000, opened)


class _Watched:
    def __init__(self, receive: Receive, send: Send) -> None:
        self._receive = receive
        self._send = send
        self.revoked = asyncio.Event()
        self._closed = False

    async def watch(self, still_valid: Callable[[], Awaitable[bool]]) -> None:
        while True:
            await asyncio.sleep(CHECK_SECONDS)
            try:
                valid = await still_valid()
            except Exception:
                # Not a verdict on the key: asked again in a second, rather than never again.
                log.exception("checking a WebSocket's API key failed")
                continue
            if not valid:
                self.revoked.set()
                return

    async def receive(self) -> Message:
        if not self.revoked.is_set():
            getting = asyncio.ensure_future(self._receive())
            revoked = asyncio.ensure_future(self.revoked.wait())
            await asyncio.wait({getting, revoked}, return_when=asyncio.FIRST_COMPLETED)
            revoked.cancel()
            if getting.done():
                return getting.result()
            getting.cancel()
        await self._close()
        return {"type": "websocket.disconnect", "code": REVOKED}

    async def send(self, message: Message) -> None:
        if self._closed:
            return  # closed for its revoked key: what the app still sends goes nowhere
        if message["type"] == "websocket.close":
            self._closed = True
        await self._send(message)

    async def _close(self) -> None:
        if not self._closed:
            self._closed = True
            with suppress(OSError, RuntimeError):
                await self._send(
                    {"type": "websocket.close", "code": REVOKED, "reason": "API key revoked"}
                )


def _line(scope: Scope, what: str, code: int, opened: float) -> None:
    caller = scope.get("state", {}).get("caller")
    fields: dict[str, object] = {
        "method": "WS",
        "route": "/graphql",
        "status": code,
        "socket": what,
        "duration_ms": round((time.perf_counter() - opened) * 1000, 2),
    }
    if caller is not None and caller.name is not None:
        fields["key"] = caller.name
    log_access(__name__, f"WS /graphql {what} {code}", fields)
