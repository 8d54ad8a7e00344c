"""What the HTTP app and the APIs read off an ASGI scope alike."""

from __future__ import annotations

from starlette.types import Scope


def picked_headers(scope: Scope, wanted: frozenset[bytes]) -> dict[bytes, bytes]:
    """The first value of each wanted header, in one pass (ASGI names are lower-case): what
    Starlette's Headers would give, without building it on every request."""
    picked: dict[bytes, bytes] = {}
    for name, value in scope["headers"]:
        if name in wanted and name not in picked:
            picked[name] = value
    return picked
