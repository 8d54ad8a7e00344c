"""ASGI middleware that bounds every request body, on every route: over a size limit it is
refused with a 413, and one that does not arrive in time with a 408."""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from resolvers.rest.errors import ApiError, error_response, payload_too_large, request_timeout


class BodySizeLimit:
    """Reads the whole body (it is small by definition) before the app sees any of it.

    The deadline covers the whole body, not each chunk: a client trickling a byte at a time
    would reset a per-chunk timer forever, and hold its connection and a request task meanwhile.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, read_timeout: float) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.read_timeout = read_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await _refuse(payload_too_large(self.max_bytes), scope, receive, send)
            return
        body: bytes | ApiError | None
        try:
            async with asyncio.timeout(self.read_timeout):
                body = await self._read(receive)
        except TimeoutError:
            body = request_timeout(self.read_timeout)
        if body is None:
            return
        if isinstance(body, ApiError):
            await _refuse(body, scope, receive, send)
            return
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if delivered:
                return await receive()
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _read(self, receive: Receive) -> bytes | ApiError | None:
        """The whole body; or the error to answer instead; or None if the client went away."""
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                return payload_too_large(self.max_bytes)
            chunks.append(chunk)
            more = message.get("more_body", False)
        return b"".join(chunks)


async def _refuse(error: ApiError, scope: Scope, receive: Receive, send: Send) -> None:
    # The rest of the body is never read, so the connection cannot carry another request.
    response = error_response(error)
    response.headers["Connection"] = "close"
    await response(scope, receive, send)
