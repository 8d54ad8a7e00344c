"""Who is calling: the bearer key of every API request, its scopes and its rate limit.

Runs before the body is read, so a caller without a key costs no more than its headers. The
routes' needs are listed here; GraphQL's fields check theirs themselves (schema/permissions.py),
since one document may ask for several.
"""

from __future__ import annotations

import logging

# Starlette's own: the router matches on exactly this path.
from starlette._utils import get_route_path
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from graphdb.errors import DatabaseUnavailable
from resolvers.core.access import ANYONE, Authenticator, Caller
from resolvers.core.access import Scope as KeyScope
from resolvers.graphql.transport import error_response as graphql_error_response
from resolvers.http.rate_limits import RateLimits
from resolvers.rest.errors import ApiError, error_response, unavailable

log = logging.getLogger(__name__)

# The scopes each API path needs, beyond a valid key. The REST shim answers with the whole
# cluster, PII and all, so it needs read as well as identify.
NEEDED: dict[str, tuple[KeyScope, ...]] = {
    "/graphql": (),
    "/identify": (KeyScope.IDENTIFY, KeyScope.READ),
    "/metrics": (KeyScope.METRICS,),
}
# GET /graphql serves only the GraphiQL page (queries over GET are refused), which holds no data.
_OPEN_METHODS = {"/graphql": frozenset({"GET", "HEAD"})}


class Authentication:
    """Deny by default: every path needs a valid key unless the app lists it as open (health,
    the Browser guide, the dev tools when served), so a route added later is never left open by
    omission."""

    def __init__(
        self,
        app: ASGIApp,
        required: bool,
        open_paths: tuple[str, ...] = (),
        open_prefixes: tuple[str, ...] = (),
    ) -> None:
        self.app = app
        self.required = required
        self.open_paths = frozenset(open_paths)
        self.open_prefixes = open_prefixes
        self.rate_limits = RateLimits()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # The path as the router will match it: behind a root path (a proxy's prefix), the raw
        # path starts with that prefix, and a check on it would miss every route.
        path = get_route_path(scope)
        if not self.required or self._open(path, scope["method"]):
            await self._serve(scope, receive, send, ANYONE)
            return
        authenticator: Authenticator = scope["state"]["authenticator"]
        try:
            caller = await self._caller(scope, authenticator, NEEDED.get(path, ()))
        except ApiError as error:
            await _refusal(path, error)(scope, receive, send)
            return
        await self._serve(scope, receive, send, caller)

    def _open(self, path: str, method: str) -> bool:
        return (
            path in self.open_paths
            or path.startswith(self.open_prefixes)
            or method in _OPEN_METHODS.get(path, frozenset())
        )

    async def _serve(self, scope: Scope, receive: Receive, send: Send, caller: Caller) -> None:
        # A copy: the state dict may be shared by every request of the app (asgi-lifespan
        # shares it; uvicorn copies it per request), and the caller is this request's own.
        scope["state"] = {**scope["state"], "caller": caller}
        await self.app(scope, receive, send)

    async def _caller(
        self, scope: Scope, authenticator: Authenticator, needed: tuple[KeyScope, ...]
    ) -> Caller:
        key = _bearer_key(scope)
        if key is None:
            raise ApiError(401, "unauthenticated", "Send an API key: Authorization: Bearer <key>.")
        try:
            caller = await authenticator.caller(key)
        except DatabaseUnavailable as error:
            log.warning("database unavailable: %s", error)
            raise unavailable() from None
        if caller is None:
            raise ApiError(401, "unauthenticated", "The API key is unknown or revoked.")
        # Known from here on, so that the access line of a 403 or 429 names the key.
        scope["state"] = {**scope["state"], "caller": caller}
        # Counted before the scope check: a key hammering what it may not do is slowed down too.
        if (seconds := self.rate_limits.retry_after(caller)) is not None:
            raise RateLimited(seconds)
        if not caller.may(*needed):
            names = " and ".join(each.value for each in needed)
            raise ApiError(403, "forbidden", f"This API key lacks the scope {names}.")
        return caller


class RateLimited(ApiError):
    def __init__(self, retry_after: int) -> None:
        super().__init__(429, "rate_limited", "Too many requests for this API key; slow down.")
        self.retry_after = retry_after


def _bearer_key(scope: Scope) -> str | None:
    headers: list[tuple[bytes, bytes]] = scope["headers"]
    for name, value in headers:
        if name == b"authorization":
            scheme, _, key = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and key.strip():
                return key.strip()
            return None
    return None


def _refusal(path: str, error: ApiError) -> JSONResponse:
    # GraphQL clients read errors[].extensions.code, with the same HTTP status as REST's.
    if path == "/graphql":
        response = graphql_error_response(error.status, error.code, error.message)
        if error.status == 503:
            response.headers["Retry-After"] = "2"
    else:
        response = error_response(error)
    if error.status == 401:
        response.headers["WWW-Authenticate"] = "Bearer"
    elif error.status == 403:
        response.headers["WWW-Authenticate"] = 'Bearer error="insufficient_scope"'
    elif isinstance(error, RateLimited):
        response.headers["Retry-After"] = str(error.retry_after)
    return response
