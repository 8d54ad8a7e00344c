"""GraphQL object types: Contact, Identity, its warnings, Conflict, LinkPrecedence, and the
IdentifyInput input."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Protocol

import strawberry
from graphql import GraphQLError

from graphdb.conflicts import ConflictRecord
from graphdb.errors import DatabaseUnavailable
from graphdb.ledger import EventRecord, HistoryNotFound
from graphdb.records import ClusterRecord, ContactRecord, IdentityWarning
from schema.history import HistoryEvent
from schema.permissions import CanRead, ScopedContext

DEFAULT_PAGE = 100
MAX_PAGE = 1000


class ClusterReads(Protocol):
    """Where a page of whole contacts, or of a cluster's history, comes from (the repository);
    the schema only asks."""

    async def contacts(self, contact_ids: list[int]) -> list[ContactRecord]: ...

    async def history(
        self, contact_id: int, first: int, after: str | None
    ) -> list[EventRecord]: ...


class PageError(GraphQLError):
    """`first` or `after` out of bounds: answered as an error coded invalid_arguments."""

    def __init__(self, message: str) -> None:
        super().__init__(message, extensions={"code": "invalid_arguments"})


def page_size(first: int) -> int:
    if not 1 <= first <= MAX_PAGE:
        raise PageError(f"first must be 1 to {MAX_PAGE}.")
    return first


# The repository's warnings are the GraphQL enum (values blocked_identifier, ...).
strawberry.enum(IdentityWarning, name="WarningCode")


@strawberry.type(name="Warning", description="Why an answer is not the whole story.")
class AnswerWarning:
    code: IdentityWarning = strawberry.field(
        description="blocked_identifier or hub_identifier: the value linked nobody (it is kept on "
        "the contact); merge_held_back: the request bridged two clusters too large to merge, "
        "and was answered with its email's cluster."
    )
    field: str = strawberry.field(description="The input field concerned: email or phoneNumber.")


@strawberry.enum
class LinkPrecedence(Enum):
    PRIMARY = "primary"
    SECONDARY = "secondary"


@strawberry.type(description="One sighting of an email and/or phone number on an order.")
class Contact:
    id: int
    email: str | None
    phone_number: str | None
    linked_id: int | None = strawberry.field(description="The primary's id, for a secondary.")
    link_precedence: LinkPrecedence
    created_at: datetime
    updated_at: datetime
    email_as_sent: str | None = strawberry.field(
        description="The email as the request wrote it, when its canonical form differs."
    )
    phone_number_as_sent: str | None = strawberry.field(
        description="The phone number as the request wrote it, when its canonical form differs."
    )
    email_unlinked: str | None = strawberry.field(
        description="Why the email links this contact to nobody: blocked, or hub; null if it links."
    )
    phone_number_unlinked: str | None = strawberry.field(
        description="Why the phone number links this contact to nobody: blocked, or hub."
    )

    @classmethod
    def from_record(cls, record: ContactRecord) -> Contact:
        return cls(
            id=record.id,
            email=record.email,
            phone_number=record.phone_number,
            email_as_sent=record.email_as_sent,
            phone_number_as_sent=record.phone_number_as_sent,
            email_unlinked=record.email_unlinked,
            phone_number_unlinked=record.phone_number_unlinked,
            linked_id=record.linked_id,
            link_precedence=LinkPrecedence(record.link_precedence),
            created_at=record.created_at,
            updated_at=record.updated_at,
        )


@strawberry.type(description="A whole identity cluster; its oldest contact is the primary.")
class Identity:
    # The ids are for any key; the values, and the contacts that carry them, need the scope
    # read. Those fields are nullable so that a refused one nulls itself, not the whole answer.
    primary_contact_id: int
    emails: list[str] | None = strawberry.field(
        description="The primary's first, then by creation. Needs the scope read.",
        permission_classes=[CanRead],
    )
    phone_numbers: list[str] | None = strawberry.field(
        description="The primary's first, then by creation. Needs the scope read.",
        permission_classes=[CanRead],
    )
    secondary_contact_ids: list[int] = strawberry.field(description="In creation order.")
    contact_count: int = strawberry.field(description="The primary and every secondary.")
    warnings: list[AnswerWarning] = strawberry.field(
        description="About the request that answered with this cluster; empty on reads."
    )
    # Contact objects are made only when a query asks for them, a page at a time: the REST shape
    # and most queries never do, and for a big cluster making them all costs more than the rest
    # of the request.
    cluster: strawberry.Private[ClusterRecord]
    reads: strawberry.Private[ClusterReads]

    def _primary(self) -> Contact:
        return Contact.from_record(self.cluster.primary)

    async def _contacts(
        self,
        first: int = DEFAULT_PAGE,
        after: int | None = None,
    ) -> list[Contact]:
        ids = [member.id for member in self.cluster.contacts]
        start = 0
        if after is not None:
            if after not in ids:
                raise PageError("after is no contact of this cluster.")
            start = ids.index(after) + 1
        page = ids[start : start + page_size(first)]
        if page == [self.cluster.primary.id]:
            return [self._primary()]
        return [Contact.from_record(record) for record in await self.reads.contacts(page)]

    async def _history(
        self, info: strawberry.Info[ScopedContext, None], first: int = 20, after: str | None = None
    ) -> list[HistoryEvent]:
        try:
            events = await self.reads.history(self.cluster.primary.id, page_size(first), after)
        except HistoryNotFound as error:
            raise PageError(str(error)) from None
        except DatabaseUnavailable as error:
            info.context.refuse(503)
            raise GraphQLError(error.answer, extensions={"code": error.code}) from error
        return [HistoryEvent.from_record(event) for event in events]

    primary: Contact | None = strawberry.field(
        resolver=_primary, description="Needs the scope read.", permission_classes=[CanRead]
    )
    contacts: list[Contact] | None = strawberry.field(
        resolver=_contacts,
        description="The primary, then the secondaries in creation order: `first` of them "
        f"(default {DEFAULT_PAGE}, at most {MAX_PAGE}) after the contact with id `after`. "
        "Needs the scope read.",
        permission_classes=[CanRead],
    )
    history: list[HistoryEvent] | None = strawberry.field(
        resolver=_history,
        description="The cluster's ledger, newest first: `first` events (default 20, at most "
        f"{MAX_PAGE}) after the event with id `after`. Needs the scope read.",
        permission_classes=[CanRead],
    )

    @classmethod
    def from_record(
        cls,
        cluster: ClusterRecord,
        reads: ClusterReads,
        warnings: tuple[tuple[IdentityWarning, str], ...] = (),
    ) -> Identity:
        return cls(
            primary_contact_id=cluster.primary.id,
            emails=cluster.emails,
            phone_numbers=cluster.phone_numbers,
            secondary_contact_ids=[contact.id for contact in cluster.secondaries],
            contact_count=1 + len(cluster.secondaries),
            warnings=[AnswerWarning(code=code, field=field) for code, field in warnings],
            cluster=cluster,
            reads=reads,
        )


@strawberry.type(
    description="Two clusters one request bridged, held apart because together they would pass "
    "MAX_CLUSTER_CONTACTS. Listed until they are merged (mergeClusters)."
)
class Conflict:
    id: str = strawberry.field(description="Pass as `after` for the next page.")
    email_primary_contact_id: int = strawberry.field(
        description="The primary, now, of the cluster the request's email is in."
    )
    phone_primary_contact_id: int = strawberry.field(
        description="The primary, now, of the cluster the request's phone number is in."
    )
    email: str = strawberry.field(description="The request's email.")
    phone_number: str = strawberry.field(
        description="The request's phone number: the bridging value."
    )
    request_id: str | None = strawberry.field(description="The first request held back.")
    last_request_id: str | None
    requests: int = strawberry.field(description="Requests held back between these clusters.")
    first_seen_at: datetime
    last_seen_at: datetime

    @classmethod
    def from_record(cls, record: ConflictRecord) -> Conflict:
        return cls(
            id=record.id,
            email_primary_contact_id=record.email_primary_id,
            phone_primary_contact_id=record.phone_primary_id,
            email=record.email,
            phone_number=record.phone_number,
            request_id=record.request_id,
            last_request_id=record.last_request_id,
            requests=record.requests,
            first_seen_at=record.first_seen_at,
            last_seen_at=record.last_seen_at,
        )


@strawberry.input(description="At least one of email and phoneNumber must be given.")
class IdentifyInput:
    email: str | None = None
    phone_number: str | None = None
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Sent again with the same input within 24 hours, the request gets its "
        "first answer and writes nothing; with another input, the error "
        "idempotency_key_reused. Scoped to the API key; 1 to 255 printable ASCII characters.",
    )
