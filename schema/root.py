"""The schema root: wires Query and Mutation fields to their resolvers, in this one place."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    DisableIntrospection,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.types import ExecutionContext

from resolvers.graphql_fields import resolve_contact, resolve_identify
from schema.types import Identity


@strawberry.type
class Query:
    contact: Identity | None = strawberry.field(
        resolver=resolve_contact,
        description="The identity cluster holding a contact id, an email or a phone number.",
    )


@strawberry.type
class Mutation:
    identify = strawberry.mutation(
        resolver=resolve_identify,
        description="Link an order's email and/or phone number into its identity cluster.",
    )


def _is_unexpected(error: GraphQLError) -> bool:
    # Errors we raise on purpose are GraphQLErrors; anything else may carry internals.
    original = error.original_error
    return original is not None and not isinstance(original, GraphQLError)


class IdentitySchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Log unexpected errors with their trace; errors raised on purpose are answers."""
        unexpected = [error for error in errors if _is_unexpected(error)]
        super().process_errors(unexpected, execution_context)


@dataclass(frozen=True)
class GraphQLLimits:
    """Bounds on one document, so that no single request can make the server do unbounded work."""

    max_depth: int = 8
    max_aliases: int = 15
    max_tokens: int = 2000
    introspection: bool = True


def build_schema(limits: GraphQLLimits | None = None) -> IdentitySchema:
    limits = limits or GraphQLLimits()
    extensions: list[Callable[[], SchemaExtension]] = [
        lambda: MaskErrors(should_mask_error=_is_unexpected, error_message="Unexpected error."),
        lambda: QueryDepthLimiter(max_depth=limits.max_depth),
        lambda: MaxAliasesLimiter(max_alias_count=limits.max_aliases),
        lambda: MaxTokensLimiter(max_token_count=limits.max_tokens),
    ]
    if not limits.introspection:
        extensions.append(DisableIntrospection)
    # Clients send the same few documents over and over: parse and validate each one once. Last,
    # so the limits above have set the parse options and rules the caches are keyed on; bounded,
    # so distinct documents cannot grow memory.
    extensions += [lambda: ParserCache(maxsize=256), lambda: ValidationCache(maxsize=256)]
    return IdentitySchema(query=Query, mutation=Mutation, extensions=extensions)


# With the default limits: what `make schema` writes to schema.graphql.
schema = build_schema()
