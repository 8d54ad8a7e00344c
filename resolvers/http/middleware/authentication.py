"""Who is calling: the bearer key of every API request, its scopes and its rate limit.

The gateway runs it before the body is read, so a caller without a key costs no more than its
headers. The routes' needs are listed here; GraphQL's fields check theirs themselves
(schema/permissions.py), since one document may ask for several.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import Scope

from graphdb.errors import DatabaseUnavailable
from resolvers.core.access import ANYONE, Authenticator, Caller
from resolvers.core.access import Scope as KeyScope
from resolvers.graphql.transport import error_response as graphql_error_response
from resolvers.http.errors import api_error_for
from resolvers.http.rate_limits import RateLimits
from resolvers.rest.errors import ApiError, error_response

# The scopes each API path needs, beyond a valid key. The REST shim answers with the whole
# cluster, PII and all, so it needs read as well as identify.
NEEDED: dict[str, tuple[KeyScope, ...]] = {
    "/graphql": (),
    "/identify": (KeyScope.IDENTIFY, KeyScope.READ),
    "/metrics": (KeyScope.METRICS,),
}
# GET /graphql serves only the GraphiQL page (queries over GET are refused), which holds no data.
_OPEN_METHODS = {"/graphql": frozenset({"GET", "HEAD"})}


class Admission:
    """Deny by default: every path needs a valid key unless the app lists it as open (health,
    the Browser guide, the dev tools when served), so a route added later is never left open by
    omission. One per app, run by its gateway (resolvers.http.middleware.gateway)."""

    def __init__(
        self,
        required: bool,
        open_paths: tuple[str, ...] = (),
        open_prefixes: tuple[str, ...] = (),
        rate_limits: RateLimits | None = None,
    ) -> None:
        self.required = required
        self.open_paths = frozenset(open_paths)
        self.open_prefixes = open_prefixes
        self.rate_limits = rate_limits or RateLimits()

    async def admit(
        self, scope: Scope, path: str, authorization: bytes | None, origin: str | None
    ) -> None:
        """Sets the caller, or raises the refusal. A WebSocket (GraphQL subscriptions) carries
        the key in its handshake's Authorization header, as a request does. A page in a browser
        cannot set that header, but it can open a WebSocket to a service on its user's machine:
        a handshake from another origin is refused even while keys are off."""
        if scope["type"] == "websocket" and not _same_origin(scope, origin):
            raise ApiError(403, "forbidden", "A WebSocket from another origin.")
        if not self.required or (scope["type"] == "http" and self._open(path, scope["method"])):
            _set_caller(scope, ANYONE)
            return
        authenticator: Authenticator = scope["state"]["authenticator"]
        await self._authenticate(scope, authenticator, authorization, NEEDED.get(path, ()))

    async def still_valid(self, scope: Scope, authorization: bytes | None) -> bool:
        """Whether the key a socket was admitted with is known still (not revoked), from the
        keys every request is checked against. Neo4j out of reach says yes: the socket carries
        nothing new meanwhile, and requests answer 503 rather than 401."""
        key = _bearer_key(authorization)
        if key is None:
            return False
        authenticator: Authenticator = scope["state"]["authenticator"]
        try:
            return await authenticator.caller(key) is not None
        except DatabaseUnavailable:
            return True

    def _open(self, path: str, method: str) -> bool:
        return (
            path in self.open_paths
            or path.startswith(self.open_prefixes)
            or method in _OPEN_METHODS.get(path, frozenset())
        )

    async def _authenticate(
        self,
        scope: Scope,
        authenticator: Authenticator,
        authorization: bytes | None,
        needed: tuple[KeyScope, ...],
    ) -> None:
        """Sets the request's caller, or raises the refusal."""
        key = _bearer_key(authorization)
        if key is None:
            raise _unauthenticated("Send an API key: Authorization: Bearer <key>.")
        try:
            caller = await authenticator.caller(key)
        except DatabaseUnavailable as error:
            raise api_error_for(error) from None
        if caller is None:
            raise _unauthenticated("The API key is unknown or revoked.")
        # Known from here on, so that the access line of a 403 or 429 names the key.
        _set_caller(scope, caller)
        # Counted before the scope check: a key hammering what it may not do is slowed down too.
        if (seconds := self.rate_limits.retry_after(caller)) is not None:
            raise ApiError(
                429,
                "rate_limited",
                "Too many requests for this API key; slow down.",
                {"Retry-After": str(seconds)},
            )
        if not caller.may(*needed):
            names = " and ".join(each.value for each in needed)
            raise ApiError(
                403,
                "forbidden",
                f"This API key lacks the scope {names}.",
                {"WWW-Authenticate": 'Bearer error="insufficient_scope"'},
            )


def _set_caller(scope: Scope, caller: Caller) -> None:
    # A copy: the state dict may be shared by every request of the app (asgi-lifespan shares
    # it; uvicorn copies it per request), and the caller is this request's own.
    scope["state"] = {**scope["state"], "caller": caller}


def _unauthenticated(message: str) -> ApiError:
    return ApiError(401, "unauthenticated", message, {"WWW-Authenticate": "Bearer"})


def _bearer_key(authorization: bytes | None) -> str | None:
    if authorization is None:
        return None
    scheme, _, key = authorization.decode("latin-1").partition(" ")
    if scheme.lower() == "bearer" and key.strip():
        return key.strip()
    return None


def refusal(path: str, error: ApiError) -> JSONResponse:
    """A refusal in the shape of the API asked: GraphQL clients read errors[].extensions.code,
    with the same HTTP status as REST's."""
    if path == "/graphql":
        return graphql_error_response(error.status, error.code, error.message, error.headers)
    return error_response(error)


def _same_origin(scope: Scope, origin: str | None) -> bool:
    """No Origin (not a browser), or the one the Host header names."""
    if origin is None:
        return True
    return urlsplit(origin).netloc == Headers(scope=scope).get("host")
