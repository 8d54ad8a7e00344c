"""The schema root: wires Query and Mutation fields to their resolvers, in this one place, and
builds the schema with its limits."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import strawberry
from graphql import ASTValidationRule, GraphQLError, NoSchemaIntrospectionCustomRule
from strawberry.extensions import MaskErrors, SchemaExtension
from strawberry.extensions.max_aliases import create_validator as max_aliases_rule
from strawberry.extensions.query_depth_limiter import create_validator as max_depth_rule
from strawberry.types import ExecutionContext

from resolvers.graphql.documents import Documents
from resolvers.graphql.fields import (
    resolve_conflicts,
    resolve_contact,
    resolve_erase_contact,
    resolve_erase_identifier,
    resolve_explain,
    resolve_identify,
    resolve_merge_clusters,
    subscribe_cluster_changed,
)
from resolvers.graphql.root_fields import RootFieldCharge
from resolvers.graphql.scope_check import MutationScopeCheck
from resolvers.graphql.socket_operations import SubscriptionsOnlyOverWebSocket
from schema.erasure import ErasureReport
from schema.history import Explanation
from schema.permissions import CanAdmin, CanIdentify, CanRead
from schema.types import Conflict, Identity


@strawberry.type
class Query:
    contact: Identity | None = strawberry.field(
        resolver=resolve_contact,
        description="The identity cluster holding a contact id, an email or a phone number. "
        "Needs the scope read.",
        permission_classes=[CanRead],
    )
    explain: Explanation = strawberry.field(
        resolver=resolve_explain,
        description="Why contacts a and b are linked: whether they share a cluster, and the "
        "shortest chain of contacts and shared values joining them, each link with the ledger "
        "event that made it. Needs the scope read.",
        permission_classes=[CanRead],
    )
    conflicts: list[Conflict] = strawberry.field(
        resolver=resolve_conflicts,
        description="Merges held back by MAX_CLUSTER_CONTACTS and not merged since, in id order. "
        "Needs the scope admin.",
        permission_classes=[CanAdmin],
    )


@strawberry.type
class Mutation:
    identify = strawberry.mutation(
        resolver=resolve_identify,
        description="Link an order's email and/or phone number into its identity cluster. "
        "Needs the scope identify; its emails, phones and contacts need read as well.",
        permission_classes=[CanIdentify],
    )
    erase_contact: ErasureReport = strawberry.mutation(
        resolver=resolve_erase_contact,
        description="Erases a contact: its email and phone number from every contact and node "
        "(the ledger keeps keyed hashes only), itself from every cluster; the clusters they were "
        "in are recomputed from the evidence left, each with its oldest contact as primary. "
        "dryRun answers the same and writes nothing. Needs the scope admin.",
        permission_classes=[CanAdmin],
    )
    erase_identifier: ErasureReport = strawberry.mutation(
        resolver=resolve_erase_identifier,
        description="Erases an email and/or a phone number from every contact and node; the "
        "clusters they were in are recomputed from the evidence left (a merge stands on its "
        "request's email and phone), each with its oldest contact as primary. dryRun answers "
        "the same and writes nothing. Needs the scope admin.",
        permission_classes=[CanAdmin],
    )
    merge_clusters: Identity = strawberry.mutation(
        resolver=resolve_merge_clusters,
        description="Merges the clusters of contacts a and b whatever their size (a held-back "
        "merge, on purpose); the older primary stays primary. Needs the scope admin.",
        permission_classes=[CanAdmin],
    )


@strawberry.type
class Subscription:
    cluster_changed = strawberry.subscription(
        resolver=subscribe_cluster_changed,
        description="Ledger events as they are written (over the graphql-transport-ws "
        "protocol): all of them, or those about the cluster whose primary, before or after the "
        "change, is primaryContactId. A live view: events written while a subscriber is away "
        "are in history, and webhooks deliver every one. Needs the scope read; all of them, the "
        "scope stream too. Each subscribe counts against the key's rate.",
        permission_classes=[CanRead],
    )


def _is_unexpected(error: GraphQLError) -> bool:
    # Errors we raise on purpose are GraphQLErrors; anything else may carry internals.
    original = error.original_error
    return original is not None and not isinstance(original, GraphQLError)


class IdentitySchema(strawberry.Schema):
    # The documents seen, parsed and validated (resolvers.graphql.documents); set by build_schema.
    documents: Documents

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
    # The rules QueryDepthLimiter and MaxAliasesLimiter would add, made once: those extensions
    # make new rule classes for every request, so a validation cache (keyed on the rules) never
    # hit, and validating each document again was most of a GraphQL request's CPU time.
    rules: list[type[ASTValidationRule]] = [
        max_depth_rule(limits.max_depth, None, None),
        max_aliases_rule(limits.max_aliases),
    ]
    if not limits.introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    documents = Documents(tuple(rules), max_tokens=limits.max_tokens)
    extensions: list[Callable[[], SchemaExtension]] = [
        lambda: MaskErrors(should_mask_error=_is_unexpected, error_message="Unexpected error."),
        documents.extension(),
        # Before the scope check, as the gateway counts a request before it checks scopes.
        RootFieldCharge,
        MutationScopeCheck,
        SubscriptionsOnlyOverWebSocket,
    ]
    built = IdentitySchema(
        query=Query, mutation=Mutation, subscription=Subscription, extensions=extensions
    )
    built.documents = documents
    return built


# With the default limits: what `make schema` writes to schema.graphql.
schema = build_schema()
