"""Refuses a mutation, before it runs, when it asks for a field its key may not see.

Field permissions (schema/permissions.py) refuse field by field as the answer is made; for a
mutation that is too late, since the write has happened. A 4xx must mean nothing was written, so
a mutation document is checked against the same permission classes first.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    visit,
)
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from resolvers.core.access import Scope
from resolvers.graphql.app import RequestContext
from resolvers.graphql.documents import ByText


class MutationScopeCheck(SchemaExtension):
    def on_execute(self) -> Iterator[None]:
        context = self.execution_context.context
        document = self.execution_context.graphql_document
        if (
            isinstance(context, RequestContext)
            and context.caller.scopes != frozenset(Scope)
            and document is not None
            and self.execution_context.operation_type is OperationType.MUTATION
        ):
            needed = scopes_needed(
                self.execution_context.schema._schema, document, self.execution_context.query
            )
            missing = sorted(needed - scope_names(context))
            if missing:
                context.refuse(403)
                message = f"This API key lacks the scope {' and '.join(missing)}; nothing ran."
                self.execution_context.result = ExecutionResult(
                    data=None, errors=[GraphQLError(message, extensions={"code": "forbidden"})]
                )
        yield


def scope_names(context: RequestContext) -> set[str]:
    """The scopes the request's key holds, by name."""
    return {scope.value for scope in context.caller.scopes}


def scopes_needed(
    graphql_schema: GraphQLSchema, document: DocumentNode, query: str | None
) -> frozenset[str]:
    """Every scope a field of the document needs, walked once per document text."""
    if query is None:
        return _walk(graphql_schema, document)
    return _scopes_needed(graphql_schema, ByText(query, document))


# Bounded as the parser and validation caches are (resolvers/graphql/schema.py).
@lru_cache(maxsize=256)
def _scopes_needed(graphql_schema: GraphQLSchema, document: ByText) -> frozenset[str]:
    return _walk(graphql_schema, document.node)


def _walk(graphql_schema: GraphQLSchema, document: DocumentNode) -> frozenset[str]:
    """Every scope a field of the document needs, fragments included (of all its operations:
    a document holding a refused mutation beside another is refused as a whole)."""
    type_info = TypeInfo(graphql_schema)
    collector = _FieldScopes(type_info)
    visit(document, TypeInfoVisitor(type_info, collector))
    return frozenset(collector.needed)


class _FieldScopes(Visitor):
    def __init__(self, type_info: TypeInfo) -> None:
        super().__init__()
        self.type_info = type_info
        self.needed: set[str] = set()

    def enter_field(self, _node: FieldNode, *_args: Any) -> None:
        field = self.type_info.get_field_def()
        definition = None if field is None else field.extensions.get("strawberry-definition")
        for permission in getattr(definition, "permission_classes", ()):
            if (scope := getattr(permission, "scope", None)) is not None:
                self.needed.add(scope)
