"""Every request body bounded: over a size limit it is refused with a 413, and one that does not
arrive in time with a 408. The gateway reads the whole body (it is small by definition) before
the app sees any of it."""

from __future__ import annotations

import asyncio

from starlette.types import Message, Receive

from resolvers.rest.errors import ApiError, payload_too_large, request_timeout


class BodyLimit:
    """The deadline covers the whole body, not each chunk: a client trickling a byte at a time
    would reset a per-chunk timer forever, and hold its connection and a request task meanwhile.
    """

    def __init__(self, max_bytes: int, read_timeout: float) -> None:
        self.max_bytes = max_bytes
        self.read_timeout = read_timeout

    def declared_too_large(self, content_length: bytes | None) -> ApiError | None:
        if content_length is None or not content_length.isdigit():
            return None
        return payload_too_large(self.max_bytes) if int(content_length) > self.max_bytes else None

    async def read(self, receive: Receive) -> bytes | ApiError | None:
        """The whole body; or the error to answer instead; or None if the client went away."""
        try:
            async with asyncio.timeout(self.read_timeout):
                return await self._read(receive)
        except TimeoutError:
            return request_timeout(self.read_timeout)

    async def _read(self, receive: Receive) -> bytes | ApiError | None:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                return payload_too_large(self.max_bytes)
            if not message.get("more_body", False):
                # Most bodies come in one message: nothing to join.
                return b"".join([*chunks, chunk]) if chunks else chunk
            chunks.append(chunk)


def replay(body: bytes, receive: Receive) -> Receive:
    """The body read, as the app's first message; then whatever comes (a disconnect)."""
    delivered = False

    async def replayed() -> Message:
        nonlocal delivered
        if delivered:
            return await receive()
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed
