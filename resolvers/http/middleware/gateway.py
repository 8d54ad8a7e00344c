"""The one ASGI layer in front of every route: the request id, the Host check, who is calling
(key, scopes, rate), the body's size and deadline, CORS, unexpected errors, and the access line
and metrics, in that order, for every request.

They were six middleware layers, each wrapping `send` and reading the headers again; one pass
over the headers and one wrapper do it all (docs/PERFORMANCE.md measured the difference). Each
concern keeps its own module: this one only runs them in order.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from starlette._utils import get_route_path  # the path exactly as the router matches it
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from resolvers.http.middleware.authentication import Admission, refusal
from resolvers.http.middleware.body_limit import BodyLimit, replay
from resolvers.http.middleware.request_log import observe, request_id_of
from resolvers.http.middleware.scoped_cors import ScopedCors
from resolvers.http.middleware.sockets import Sockets
from resolvers.http.middleware.trusted_hosts import HostCheck, refuse_websocket
from resolvers.rest.errors import INTERNAL_ERROR, INVALID_HOST, ApiError, error_response
from resolvers.runtime.asgi import picked_headers
from resolvers.runtime.logs import identify_hashes, identify_outcomes, request_id

log = logging.getLogger(__name__)

# The request headers the gateway reads, picked out in one pass, and where it keeps them in the
# scope while CORS runs between the Host check and the rest.
_WANTED = frozenset({b"host", b"x-request-id", b"authorization", b"content-length", b"origin"})
_HEADERS = "identity.gateway.headers"


class Gateway:
    def __init__(
        self,
        app: ASGIApp,
        *,
        hosts: HostCheck,
        open_to_any_host: tuple[str, ...],
        admission: Admission,
        sockets: Sockets,
        body: BodyLimit,
        api_origins: tuple[str, ...],
        browser_origins: tuple[str, ...],
    ) -> None:
        self.app = app
        self.hosts = hosts
        self.open_to_any_host = frozenset(open_to_any_host)
        self.admission = admission
        self.sockets = sockets
        self.body = body
        # Requests that name an Origin go through CORS, which answers preflights itself and
        # adds its headers to every answer, refusals included; the others get its Vary header.
        self.cors = ScopedCors(self._admitted, api_origins, browser_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = picked_headers(scope, _WANTED)
        if not self.hosts.allows(_text(headers.get(b"host"))):
            await refuse_websocket(receive, send)
            return
        path = get_route_path(scope)
        try:
            await self.admission.admit(
                scope, path, headers.get(b"authorization"), _text(headers.get(b"origin"))
            )
        except ApiError:
            await refuse_websocket(receive, send)
            return
        caller = scope["state"]["caller"]
        if caller.name is None:  # keys off: nobody to hold to a count or to revoke
            await self.app(scope, receive, send)
            return
        with self.sockets.held(caller.name) as allowed:
            if not allowed:
                await refuse_websocket(receive, send)
                return
            authorization = headers.get(b"authorization")
            await self.sockets.watched(
                self.app,
                scope,
                receive,
                send,
                lambda: self.admission.still_valid(scope, authorization),
            )

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        headers = picked_headers(scope, _WANTED)
        current_id = request_id_of(headers.get(b"x-request-id"))
        outcomes: list[str] = []
        hashes: list[str] = []
        tokens = (
            request_id.set(current_id),
            identify_outcomes.set(outcomes),
            identify_hashes.set(hashes),
        )
        answer = _Answer(scope, send, current_id, started, notes=(outcomes, hashes))
        try:
            await self._serve(scope, receive, answer, headers)
        except Exception:
            # Not the path: it is the client's, and may hold an email. The request id leads to
            # the request's access line, which names the route's template.
            log.exception("unexpected error while serving a request")
            if not answer.started:
                await error_response(INTERNAL_ERROR)(scope, receive, answer.send)
        finally:
            # No answer was completed: the client went away, or an error escaped.
            answer.finish()
            identify_hashes.reset(tokens[2])
            identify_outcomes.reset(tokens[1])
            request_id.reset(tokens[0])

    async def _serve(
        self, scope: Scope, receive: Receive, answer: _Answer, headers: dict[bytes, bytes]
    ) -> None:
        path = get_route_path(scope)
        if path not in self.open_to_any_host and not self.hosts.allows(_text(headers.get(b"host"))):
            await error_response(INVALID_HOST)(scope, receive, answer.send)
            return
        scope[_HEADERS] = headers
        if b"origin" in headers:
            await self.cors(scope, receive, answer.send)
        else:
            await self._admitted(scope, receive, answer.send)

    async def _admitted(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers: dict[bytes, bytes] = scope.pop(_HEADERS)
        path = get_route_path(scope)
        try:
            # Before the body is read: a caller without a key costs no more than its headers.
            await self.admission.admit(
                scope, path, headers.get(b"authorization"), _text(headers.get(b"origin"))
            )
        except ApiError as error:
            await refusal(path, error)(scope, receive, send)
            return
        if (too_large := self.body.declared_too_large(headers.get(b"content-length"))) is None:
            body = await self.body.read(receive)
        else:
            body = too_large
        if body is None:
            return  # the client went away
        if isinstance(body, ApiError):
            # The rest of the body is never read, so the connection cannot carry another request.
            response = error_response(body)
            response.headers["Connection"] = "close"
            await response(scope, receive, send)
            return
        await self.app(scope, replay(body, receive), send)


class _Answer:
    """The `send` the app below is given: it stamps the request id (and CORS's Vary) on the
    answer, and writes the access line and metrics before the answer's last byte leaves, so a
    client holding its answer finds it in the log and in /metrics."""

    def __init__(
        self,
        scope: Scope,
        send: Send,
        current_id: str,
        started: float,
        *,
        notes: tuple[list[str], list[str]],
    ) -> None:
        self._scope = scope
        self._send = send
        self._id = current_id
        self._started = started
        # What the identifies of the request noted for its line: outcomes, keyed hashes.
        self._outcomes, self._hashes = notes
        self.status = 500
        self.started = False
        self._done = False

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            self.started = True
            self.status = message["status"]
            response_headers: list[Any] = message.setdefault("headers", [])
            response_headers.append((b"x-request-id", self._id.encode()))
            if not any(name.lower() == b"vary" for name, _ in response_headers):
                # What CORS adds when the request names no Origin (it has, otherwise): the
                # answer depends on the Origin.
                response_headers.append((b"vary", b"Origin"))
        elif kind == "http.response.body" and not message.get("more_body", False):
            self.finish()
        await self._send(message)

    def finish(self) -> None:
        if not self._done:
            self._done = True
            seconds = time.perf_counter() - self._started
            observe(
                self._scope,
                self._id,
                self.status,
                seconds,
                outcomes=self._outcomes,
                hashes=self._hashes,
            )


def _text(value: bytes | None) -> str | None:
    return None if value is None else value.decode("latin-1")
