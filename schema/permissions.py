"""Which API key scope each protected field needs: the declaration, kept with the types.

The GraphQL context (resolvers/graphql/app.py) knows the caller; these classes only ask it. A
refused field answers null with an error coded `forbidden`, and the HTTP status becomes 403,
while the fields the key may see are answered (a frontend key with `identify` alone gets ids).
"""

from __future__ import annotations

from typing import Any, ClassVar, Protocol

from strawberry import Info
from strawberry.permission import BasePermission


class ScopedContext(Protocol):
    def allows(self, scope: str) -> bool: ...

    def refuse(self, status: int) -> None: ...


class _NeedsScope(BasePermission):
    scope: ClassVar[str]
    error_extensions = {"code": "forbidden"}  # noqa: RUF012 - strawberry's own attribute

    def has_permission(self, source: Any, info: Info[ScopedContext, None], **kwargs: Any) -> bool:
        if info.context.allows(self.scope):
            return True
        info.context.refuse(403)
        return False


class CanIdentify(_NeedsScope):
    scope = "identify"
    message = "This API key lacks the scope identify."


class CanRead(_NeedsScope):
    """Emails and phone numbers, and the contacts that carry them."""

    scope = "read"
    message = "This API key lacks the scope read."


class CanAdmin(_NeedsScope):
    """Held-back merges: listing them, and merging clusters on purpose."""

    scope = "admin"
    message = "This API key lacks the scope admin."
