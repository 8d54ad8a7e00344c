"""Plain records the repository returns: contacts, clusters and what an identify changed."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any


class IdentifyOutcome(Enum):
    CREATED_PRIMARY = "created_primary"
    ADDED_SECONDARY = "added_secondary"
    MERGED = "merged"
    NOTHING_NEW = "nothing_new"
    # Two clusters the request bridged stay apart: the merge would pass MAX_CLUSTER_CONTACTS.
    MERGE_HELD_BACK = "merge_held_back"
    # The request came again with its Idempotency-Key: the first answer, nothing written.
    REPLAYED = "replayed"

    @property
    def created(self) -> bool:
        return self in (IdentifyOutcome.CREATED_PRIMARY, IdentifyOutcome.ADDED_SECONDARY)


@dataclass(frozen=True)
class ContactRecord:
    id: int
    email: str | None
    phone_number: str | None
    linked_id: int | None
    link_precedence: str
    # ISO 8601 text as the cluster statements return it, parsed on use: the REST answer never
    # shows times, and making time objects was most of the cost of a big cluster's answer.
    created: str
    updated: str
    # The text the request sent, where it differs from the canonical value; and why a value links
    # this contact to nobody ("blocked", "hub").
    email_as_sent: str | None = None
    phone_number_as_sent: str | None = None
    email_unlinked: str | None = None
    phone_number_unlinked: str | None = None

    @property
    def created_at(self) -> datetime:
        return native_time(self.created)

    @property
    def updated_at(self) -> datetime:
        return native_time(self.updated)

    @classmethod
    def from_node(cls, node: dict[str, Any], linked_id: int | None) -> ContactRecord:
        return cls(
            id=node["id"],
            email=node.get("email"),
            phone_number=node.get("phoneNumber"),
            linked_id=linked_id,
            link_precedence=node["linkPrecedence"],
            created=node["createdAt"],
            updated=node["updatedAt"],
            email_as_sent=node.get("emailAsSent"),
            phone_number_as_sent=node.get("phoneNumberAsSent"),
            email_unlinked=node.get("emailUnlinked"),
            phone_number_unlinked=node.get("phoneNumberUnlinked"),
        )


def native_time(value: str) -> datetime:
    # A region-named zone comes as "+01:00[Europe/Berlin]"; the offset alone is the instant.
    return datetime.fromisoformat(value.partition("[")[0])


@dataclass(frozen=True)
class MemberRecord:
    """A contact of a cluster as its lists need it: id and values, no times."""

    id: int
    email: str | None
    phone_number: str | None


@dataclass(frozen=True)
class ClusterRecord:
    """A cluster read one hop from its primary: the primary whole, the secondaries as members in
    (createdAt, id) order."""

    primary: ContactRecord
    secondaries: tuple[MemberRecord, ...]

    @property
    def contacts(self) -> tuple[MemberRecord, ...]:
        primary = MemberRecord(self.primary.id, self.primary.email, self.primary.phone_number)
        return (primary, *self.secondaries)

    @property
    def emails(self) -> list[str]:
        return _distinct(contact.email for contact in self.contacts)

    @property
    def phone_numbers(self) -> list[str]:
        return _distinct(contact.phone_number for contact in self.contacts)


def _distinct(values: Iterable[str | None]) -> list[str]:
    # The primary comes first in `contacts`, so its value leads; dict keeps first-seen order.
    return list(dict.fromkeys(value for value in values if value is not None))


class IdentityWarning(Enum):
    """Why an answer is not the whole story: a value that linked nobody, or a merge held back."""

    BLOCKED_IDENTIFIER = "blocked_identifier"
    HUB_IDENTIFIER = "hub_identifier"
    MERGE_HELD_BACK = "merge_held_back"


@dataclass(frozen=True)
class IdentifyRecord:
    cluster: ClusterRecord
    outcome: IdentifyOutcome
    # Per warning, the input fields it concerns ("email", "phoneNumber").
    warnings: tuple[tuple[IdentityWarning, str], ...] = ()
