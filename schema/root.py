"""The schema root: wires Query and Mutation fields to their resolvers, in this one place."""

from __future__ import annotations

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors
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


schema = IdentitySchema(
    query=Query,
    mutation=Mutation,
    extensions=[
        lambda: MaskErrors(should_mask_error=_is_unexpected, error_message="Unexpected error.")
    ],
)
