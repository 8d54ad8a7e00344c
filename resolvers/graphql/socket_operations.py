"""Over a WebSocket, subscriptions only: queries and mutations go as HTTP POSTs.

graphql-transport-ws would run any operation, but a socket's messages pass none of what guards
a request: the per-key rate limit, the body size limit, the access log line and the request id
the ledger records. The handshake alone is authenticated (resolvers.http.middleware)."""

from __future__ import annotations

from collections.abc import Iterator

from graphql import ExecutionResult, GraphQLError
from starlette.websockets import WebSocket
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from resolvers.graphql.app import RequestContext


class SubscriptionsOnlyOverWebSocket(SchemaExtension):
    def on_execute(self) -> Iterator[None]:
        context = self.execution_context.context
        if (
            isinstance(context, RequestContext)
            and isinstance(context.request, WebSocket)
            and self.execution_context.operation_type is not OperationType.SUBSCRIPTION
        ):
            self.execution_context.result = ExecutionResult(
                data=None,
                errors=[
                    GraphQLError(
                        "Over WebSocket, only subscriptions: send queries and mutations as "
                        "HTTP POSTs.",
                        extensions={"code": "bad_request"},
                    )
                ],
            )
        yield
