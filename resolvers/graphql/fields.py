"""Resolvers of the GraphQL fields: the identify, mergeClusters and erasure mutations, the
contact, explain and conflicts queries."""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator
from typing import Annotated, TypeVar

import strawberry
from graphql import GraphQLError

from graphdb.erasure import ErasureResult
from graphdb.errors import DatabaseUnavailable
from graphdb.explain import ContactNotFound
from graphdb.idempotency import IdempotencyKeyReused, IdempotencyKeysExhausted
from graphdb.records import ClusterRecord
from resolvers.core.access import Scope
from resolvers.core.idempotency import InvalidIdempotencyKey, idempotency_claim
from resolvers.core.identifiers import (
    InvalidIdentifier,
    canonical_email_or_error,
    erasable_email_forms,
)
from resolvers.core.identify import identify
from resolvers.graphql.app import RequestContext
from resolvers.runtime.logs import log_access, note_identifiers, note_outcome, request_id
from schema.erasure import ErasureReport
from schema.errors import InvalidInput
from schema.history import Explanation, HistoryEvent
from schema.results import IdentifyResult
from schema.types import DEFAULT_PAGE, Conflict, IdentifyInput, Identity, page_size

# A value or its forms, once checked.
_Value = TypeVar("_Value", str, tuple[str, ...])

log = logging.getLogger(__name__)

Info = strawberry.Info[RequestContext, None]


def unavailable_error(error: DatabaseUnavailable) -> GraphQLError:
    log.warning("database unavailable: %s", error)
    return GraphQLError(error.answer, extensions={"code": error.code})


def _unavailable(info: Info, error: DatabaseUnavailable) -> GraphQLError:
    info.context.refuse(503)
    return unavailable_error(error)


async def identify_result(context: RequestContext, identify_input: IdentifyInput) -> IdentifyResult:
    """The identify mutation's answer: what the resolver returns, and what the identify plan
    (resolvers.graphql.identify_plan) reads its answer from. Raises DatabaseUnavailable."""
    try:
        claim = idempotency_claim(
            context.caller.name,
            identify_input.idempotency_key,
            identify_input.email,
            identify_input.phone_number,
        )
        result = await identify(
            context.repository,
            context.rules,
            identify_input.email,
            identify_input.phone_number,
            request_id=request_id.get(),
            idempotency=claim,
        )
    except (InvalidIdentifier, InvalidIdempotencyKey) as error:
        return InvalidInput(code=error.code, message=error.message, field=error.field)
    except (IdempotencyKeyReused, IdempotencyKeysExhausted) as error:
        return InvalidInput(code=error.code, message=error.answer, field="idempotencyKey")
    note_outcome(result.outcome.value)
    note_identifiers(identify_input.email, identify_input.phone_number)
    return Identity.from_record(result.cluster, context.repository, result.warnings)


async def resolve_identify(
    info: Info, identify_input: Annotated[IdentifyInput, strawberry.argument(name="input")]
) -> IdentifyResult:
    try:
        return await identify_result(info.context, identify_input)
    except DatabaseUnavailable as error:
        raise _unavailable(info, error) from error


async def resolve_contact(
    info: Info,
    id: int | None = None,
    email: str | None = None,
    phone_number: str | None = None,
) -> Identity | None:
    """The cluster of the contact with this id, email or phone; exactly one must be given."""
    given = [value for value in (id, email, phone_number) if value is not None]
    if len(given) != 1:
        raise GraphQLError(
            "Give exactly one of id, email and phoneNumber.",
            extensions={"code": "invalid_arguments"},
        )
    repository = info.context.repository
    try:
        cluster: ClusterRecord | None
        if id is not None:
            cluster = await repository.cluster_by_id(id)
        elif email is not None:
            cluster = await repository.cluster_by_email(_canonical(canonical_email_or_error(email)))
        else:
            cluster = await repository.cluster_by_phone(
                _canonical(info.context.rules.phone(phone_number or ""))
            )
    except DatabaseUnavailable as error:
        raise _unavailable(info, error) from error
    # A read of someone's data is as worth tracing as a write.
    note_identifiers(email, phone_number)
    return None if cluster is None else Identity.from_record(cluster, repository)


async def resolve_conflicts(
    info: Info, first: int = DEFAULT_PAGE, after: str | None = None
) -> list[Conflict]:
    """Open held-back merges in id order: `first` of them after the id `after`."""
    try:
        records = await info.context.repository.conflicts(page_size(first), after)
    except DatabaseUnavailable as error:
        raise _unavailable(info, error) from error
    return [Conflict.from_record(record) for record in records]


async def resolve_merge_clusters(info: Info, a: int, b: int) -> Identity:
    """Merges the clusters of contacts a and b, past MAX_CLUSTER_CONTACTS: an operator's call."""
    try:
        cluster = await info.context.repository.merge_clusters(a, b)
    except DatabaseUnavailable as error:
        raise _unavailable(info, error) from error
    if cluster is None:
        raise GraphQLError("No contact has that id.", extensions={"code": "not_found"})
    log.info("clusters merged on purpose: primary now %d", cluster.primary.id)
    return Identity.from_record(cluster, info.context.repository)


async def resolve_explain(info: Info, a: int, b: int) -> Explanation:
    """Whether contacts a and b are one cluster, and the shortest chain of evidence joining
    them."""
    try:
        explanation = await info.context.repository.explain(a, b)
    except ContactNotFound as error:
        raise GraphQLError(str(error), extensions={"code": "not_found"}) from None
    except DatabaseUnavailable as error:
        raise _unavailable(info, error) from error
    return Explanation.from_record(explanation)


async def resolve_erase_contact(info: Info, id: int, dry_run: bool = False) -> ErasureReport:
    """Erases a contact: its email and phone from every contact and node, itself from every
    cluster; the clusters it was in recomputed from the evidence left."""
    repository = info.context.repository
    try:
        result = await repository.erase_contact(id, dry_run=dry_run, request_id=request_id.get())
    except DatabaseUnavailable as error:
        raise _unavailable(info, error) from error
    if result is None:
        raise GraphQLError("No contact has that id.", extensions={"code": "not_found"})
    _log_erasure(result, dry_run)
    return ErasureReport.from_result(result, dry_run, repository)


async def resolve_erase_identifier(
    info: Info,
    email: str | None = None,
    phone_number: str | None = None,
    dry_run: bool = False,
) -> ErasureReport:
    """Erases an email and/or a phone number from every contact and node; the clusters they
    were in recomputed from the evidence left."""
    if email is None and phone_number is None:
        raise GraphQLError(
            "Give an email, a phoneNumber, or both.", extensions={"code": "invalid_arguments"}
        )
    # Every form the value may be stored in, under today's rules or earlier ones.
    emails = () if email is None else _canonical(erasable_email_forms(email))
    phones = (
        ()
        if phone_number is None
        else _canonical(info.context.rules.erasable_phone_forms(phone_number))
    )
    repository = info.context.repository
    try:
        result = await repository.erase_identifier(
            emails[0] if emails else None,
            phones[0] if phones else None,
            earlier_forms=(
                *(("email", form) for form in emails[1:]),
                *(("phone", form) for form in phones[1:]),
            ),
            dry_run=dry_run,
            request_id=request_id.get(),
        )
    except DatabaseUnavailable as error:
        raise _unavailable(info, error) from error
    _log_erasure(result, dry_run)
    return ErasureReport.from_result(result, dry_run, repository)


def _log_erasure(result: ErasureResult, dry_run: bool) -> None:
    # By kind only: the point is that the values are gone, and a hash would be a trace of them.
    log.info(
        "%s %s from %d contact(s), leaving %d cluster(s)",
        "erasure (dry run):" if dry_run else "erased",
        ", ".join(value.kind for value in result.erased) or "nothing",
        len(result.contact_ids),
        len(result.clusters),
    )


async def subscribe_cluster_changed(
    info: Info, primary_contact_id: int | None = None
) -> AsyncGenerator[HistoryEvent, None]:
    """Every ledger event from now on, or those about the cluster whose primary (before or
    after the change) is primaryContactId, or about that contact. Every cluster's events need
    the scope stream as well; each subscribe counts against the key's rate as a request."""
    context = info.context
    if primary_contact_id is None and not context.allows(Scope.STREAM.value):
        raise GraphQLError(
            "Every cluster's changes need the scope stream; name a primaryContactId to follow "
            "one cluster.",
            extensions={"code": "forbidden"},
        )
    if context.rate_limits is not None and (
        seconds := context.rate_limits.retry_after(context.caller)
    ):
        raise GraphQLError(
            "Too many requests for this API key; slow down.",
            extensions={"code": "rate_limited", "retryAfter": seconds},
        )
    # A socket's access line says it opened (resolvers.http.middleware.sockets); this one says
    # what it follows, by which key.
    following = "all" if primary_contact_id is None else "cluster"
    fields: dict[str, object] = {"method": "WS", "route": "/graphql", "subscribe": following}
    if context.caller.name is not None:
        fields["key"] = context.caller.name
    log_access(__name__, f"WS /graphql subscribe clusterChanged {following}", fields)
    async for event in context.feed.subscribe():
        if primary_contact_id is None or primary_contact_id in (
            event.primary_before,
            event.primary_after,
            *event.contact_ids,
        ):
            yield HistoryEvent.from_record(event)


def _canonical(value: _Value | InvalidIdentifier) -> _Value:
    if isinstance(value, InvalidIdentifier):
        raise GraphQLError(value.message, extensions={"code": value.code, "field": value.field})
    return value
