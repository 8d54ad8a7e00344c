"""Each root field of a GraphQL document counts against its key's rate as a request of its own.

The gateway counts one per HTTP request; a document of fifteen aliased identify mutations would
otherwise do fifteen requests' work for the price of one. Once the document is parsed, its
further root fields are charged to the same limiter, and past the rate nothing runs: 429, with
Retry-After, in the GraphQL shape.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)
from strawberry.extensions import SchemaExtension

from resolvers.graphql.app import RequestContext
from resolvers.graphql.documents import ByText


class RootFieldCharge(SchemaExtension):
    def on_execute(self) -> Iterator[None]:
        context = self.execution_context.context
        query = self.execution_context.query
        if (
            isinstance(context, RequestContext)
            and context.rate_limits is not None
            and query is not None
            and self.execution_context.graphql_document is not None
        ):
            document = ByText(query, self.execution_context.graphql_document)
            fields = _root_fields(document, self.execution_context.operation_name)
            seconds = (
                context.rate_limits.retry_after(context.caller, cost=fields - 1)
                if fields > 1
                else None
            )
            if seconds is not None:
                context.refuse(429)
                if context.response is not None:
                    context.response.headers["Retry-After"] = str(seconds)
                message = (
                    "Too many requests for this API key (each root field counts as one); "
                    "slow down. Nothing ran."
                )
                self.execution_context.result = ExecutionResult(
                    data=None, errors=[GraphQLError(message, extensions={"code": "rate_limited"})]
                )
        yield


# Bounded as the parser's cache is (resolvers.graphql.documents).
@lru_cache(maxsize=256)
def _root_fields(document: ByText, operation_name: str | None) -> int:
    return root_fields(document.node, operation_name)


def root_fields(document: DocumentNode, operation_name: str | None) -> int:
    """The root fields the operation runs, aliases each counted, fragments followed
    (`__typename` and other meta fields count for nothing)."""
    fragments = {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = next(
        (
            operation
            for operation in operations
            if operation_name is None or (operation.name and operation.name.value == operation_name)
        ),
        None,
    )
    return 0 if chosen is None else _count(chosen.selection_set, fragments, frozenset())


def _count(
    selections: SelectionSetNode,
    fragments: dict[str, FragmentDefinitionNode],
    seen: frozenset[str],
) -> int:
    count = 0
    for selection in selections.selections:
        if isinstance(selection, FieldNode):
            count += not selection.name.value.startswith("__")
        elif isinstance(selection, InlineFragmentNode):
            count += _count(selection.selection_set, fragments, seen)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name in fragments and name not in seen:
                count += _count(fragments[name].selection_set, fragments, seen | {name})
    return count
