"""Only the Host names in ALLOWED_HOSTS are served, against DNS rebinding; others get 400.

A page on an attacker's site can make its own name resolve to 127.0.0.1 and then read this
service as if it were the same origin, CORS notwithstanding. The browser still sends the
attacker's name in `Host`, so refusing names the service does not go by closes that door.
"""

from __future__ import annotations

from collections.abc import Sequence

# Starlette's own parser, so a Host header means here what it means to TrustedHostMiddleware
# (port stripped, IPv6 brackets kept, malformed values refused); the version is pinned.
from starlette._utils import get_route_path, parse_host_header
from starlette.datastructures import Headers
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from resolvers.rest.errors import INVALID_HOST, error_response


class TrustedHosts(TrustedHostMiddleware):
    """Starlette's TrustedHostMiddleware (its patterns: exact names, `*.example.com`, `*`),
    answering in the API's JSON error shape, and leaving `open_paths` to any Host.

    The health probes are open because orchestrators send the address they dial as the Host
    (Kubernetes probes send the pod's IP), and they answer nothing worth rebinding for.
    """

    def __init__(self, app: ASGIApp, allowed_hosts: Sequence[str], open_paths: Sequence[str]):
        # No www redirect: an API client would not follow it, and it would answer 307 to a name
        # the service was not told it has.
        super().__init__(app, allowed_hosts=list(allowed_hosts), www_redirect=False)
        self.open_paths = frozenset(open_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and not (
            self.allow_any or self._allowed(Headers(scope=scope).get("host"))
        ):
            await refuse_websocket(receive, send)
            return
        if (
            scope["type"] != "http"
            or self.allow_any
            or get_route_path(scope) in self.open_paths
            or self._allowed(Headers(scope=scope).get("host"))
        ):
            await self.app(scope, receive, send)
            return
        await error_response(INVALID_HOST)(scope, receive, send)

    def _allowed(self, header: str | None) -> bool:
        """Whether a Host header names a host this service serves."""
        parsed = parse_host_header(header)
        if parsed is None:
            return False
        host = parsed.host.lower()
        return any(
            host == pattern or (pattern.startswith("*") and host.endswith(pattern[1:]))
            for pattern in self.allowed_hosts
        )


async def refuse_websocket(receive: Receive, send: Send) -> None:
    """Closing before accepting answers the handshake 403 (the ASGI spec)."""
    await receive()  # websocket.connect
    await send({"type": "websocket.close", "code": 1008})
