"""GraphQL object types: Contact, Identity, LinkPrecedence, and the IdentifyInput input."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from graphdb.records import ClusterRecord, ContactRecord
from schema.permissions import CanRead


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

    @classmethod
    def from_record(cls, record: ContactRecord) -> Contact:
        return cls(
            id=record.id,
            email=record.email,
            phone_number=record.phone_number,
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
    # Contact objects are made only when a query asks for them: the REST shape and most queries
    # never do, and for a big cluster making them costs more than the rest of the request.
    cluster: strawberry.Private[ClusterRecord]

    def _primary(self) -> Contact:
        return Contact.from_record(self.cluster.primary)

    def _contacts(self) -> list[Contact]:
        return [Contact.from_record(contact) for contact in self.cluster.contacts]

    primary: Contact | None = strawberry.field(
        resolver=_primary, description="Needs the scope read.", permission_classes=[CanRead]
    )
    contacts: list[Contact] | None = strawberry.field(
        resolver=_contacts,
        description="The primary, then the secondaries. Needs the scope read.",
        permission_classes=[CanRead],
    )

    @classmethod
    def from_record(cls, cluster: ClusterRecord) -> Identity:
        return cls(
            primary_contact_id=cluster.primary.id,
            emails=cluster.emails,
            phone_numbers=cluster.phone_numbers,
            secondary_contact_ids=[contact.id for contact in cluster.secondaries],
            cluster=cluster,
        )


@strawberry.input(description="At least one of email and phoneNumber must be given.")
class IdentifyInput:
    email: str | None = None
    phone_number: str | None = None
