"""Who is calling: the bearer key of every API request, its scopes and its rate limit.

Runs before the body is read, so a caller without a key costs no more than its headers. The
routes' needs are listed here; GraphQL's fields check theirs themselves (schema/permissions.py),
since one document may ask for several.
"""

from __future__ import annotations

import logging

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from graphdb.errors import DatabaseUnavailable
from resolvers.core.access import ANYONE, Authenticator, Caller
from resolvers.core.access import Scope as KeyScope
from resolvers.graphql.transport import error_response as graphql_error_response
from resolvers.http.rate_limits import RateLimits
from resolvers.rest.errors import ApiError, error_response, unavailable

log = logging.getLogger(__name__)

# The scopes each protected path needs. The REST shim answers with the whole cluster, PII and
# all, so it needs read as well as identify. Paths not here (health, the Browser guide, the dev
# tools when served) are open.
NEEDED: dict[str, tuple[KeyScope, ...]] = {
    "/graphql": (),
    "/identify": (KeyScope.IDENTIFY, KeyScope.READ),
    "/metrics": (KeyScope.METRICS,),
}
# GET /graphql serves only the GraphiQL page (queries over GET are refused), which holds no data.
_OPEN_METHODS = {"/graphql": frozenset({"GET", "HEAD"})}


class Authentication:
    def __init__(self, app: ASGIApp, required: bool) -> None:
        self.app = app
        self.required = required
        self.rate_limits = RateLimits()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        needed = NEEDED.get(path)
        if (
            not self.required
            or needed is None
            or scope["method"] in _OPEN_METHODS.get(path, frozenset())
        ):
            scope["state"]["caller"] = ANYONE
            await self.app(scope, receive, send)
            return
        authenticator: Authenticator = scope["state"]["authenticator"]
        try:
            caller = await self._caller(scope, authenticator, needed)
        except ApiError as error:
            await _refusal(path, error)(scope, receive, send)
            return
        scope["state"]["caller"] = caller
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
        # Counted before the scope check: a key hammering what it may not do is slowed down too.
        if (seconds := self.rate_limits.retry_after(caller)) is not None:
            raise RateLimited(seconds)
        if not caller.may(*needed):
            names = " and ".join(scope.value for scope in needed)
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
