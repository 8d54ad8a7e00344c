"""Only the Host names in ALLOWED_HOSTS are served, against DNS rebinding; others get 400.

A page on an attacker's site can make its own name resolve to 127.0.0.1 and then read this
service as if it were the same origin, CORS notwithstanding. The browser still sends the
attacker's name in `Host`, so refusing names the service does not go by closes that door.
The health probes are open to any Host: orchestrators send the address they dial as the Host
(Kubernetes probes send the pod's IP), and they answer nothing worth rebinding for.
"""

from __future__ import annotations

from collections.abc import Sequence

# Starlette's own parser, so a Host header means here what it means to TrustedHostMiddleware
# (port stripped, IPv6 brackets kept, malformed values refused); the version is pinned.
from starlette._utils import parse_host_header
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import Receive, Scope, Send


class HostCheck:
    """TrustedHostMiddleware's patterns (exact names, `*.example.com`, `*`), without its www
    redirect: an API client would not follow it, and it would answer 307 to a name the service
    was not told it has."""

    def __init__(self, allowed_hosts: Sequence[str]) -> None:
        # Starlette's own reading of the patterns, malformed wildcards refused as it refuses them.
        patterns = TrustedHostMiddleware(
            _no_app, allowed_hosts=list(allowed_hosts), www_redirect=False
        )
        self.allowed_hosts = patterns.allowed_hosts
        self.allow_any = patterns.allow_any

    def allows(self, header: str | None) -> bool:
        """Whether a Host header names a host this service serves."""
        return self.allow_any or self._match(header)

    def _match(self, header: str | None) -> bool:
        parsed = parse_host_header(header)
        if parsed is None:
            return False
        host = parsed.host.lower()
        return any(
            host == pattern or (pattern.startswith("*") and host.endswith(pattern[1:]))
            for pattern in self.allowed_hosts
        )


async def _no_app(_scope: Scope, _receive: Receive, _send: Send) -> None:
    """TrustedHostMiddleware wants an app to wrap; HostCheck only asks it about patterns."""


async def refuse_websocket(receive: Receive, send: Send) -> None:
    """Closing before accepting answers the handshake 403 (the ASGI spec)."""
    await receive()  # websocket.connect
    await send({"type": "websocket.close", "code": 1008})
