"""A plain-Python reference model of docs/rules.md's identify rules, for model-based tests:
blocked values, hub values and the cluster cap included."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Outcome(Enum):
    CREATED_PRIMARY = "created_primary"
    ADDED_SECONDARY = "added_secondary"
    MERGED = "merged"
    NOTHING_NEW = "nothing_new"
    MERGE_HELD_BACK = "merge_held_back"


@dataclass
class ModelContact:
    id: int
    email: str | None
    phone: str | None
    linked_id: int | None = None
    # Whether the value links (it is neither blocked nor a hub past the cap when recorded).
    email_links: bool = True
    phone_links: bool = True

    @property
    def is_primary(self) -> bool:
        return self.linked_id is None

    def links_through(self, kind: str, value: str) -> bool:
        if kind == "email":
            return self.email_links and self.email == value
        return self.phone_links and self.phone == value


@dataclass(frozen=True)
class Answer:
    primary_id: int
    emails: tuple[str, ...]
    phone_numbers: tuple[str, ...]
    secondary_ids: tuple[int, ...]


@dataclass
class ReferenceModel:
    """Contacts in creation order; ids 1, 2, 3, ... so creation order is id order.

    `blocked` values never link; a value already linking `max_per_identifier` contacts is a hub
    and links no more; a merge past `max_cluster` contacts is held back and recorded in
    `conflicts` (by the pair of primaries, email side first).
    """

    blocked: frozenset[str] = frozenset()
    max_per_identifier: int = 50
    max_cluster: int = 1000
    contacts: list[ModelContact] = field(default_factory=list)
    conflicts: dict[frozenset[int], tuple[int, int, str, str]] = field(default_factory=dict)
    last_outcome: Outcome = Outcome.NOTHING_NEW
    # (code, field) of the last request's warnings, as the service words them.
    last_warnings: frozenset[tuple[str, str]] = frozenset()
    # The (email, phone) of each request that merged clusters: the evidence each merge stands on.
    merges: list[tuple[str, str]] = field(default_factory=list)

    def identify(self, email: str | None, phone: str | None) -> Answer:
        email_hub = self._is_hub("email", email)
        phone_hub = self._is_hub("phone", phone)
        warnings = {("blocked_identifier", "email")} if email in self.blocked else set()
        if phone in self.blocked:
            warnings.add(("blocked_identifier", "phoneNumber"))
        if email_hub:
            warnings.add(("hub_identifier", "email"))
        if phone_hub:
            warnings.add(("hub_identifier", "phoneNumber"))
        self.last_warnings = frozenset(warnings)
        link_email = email if email not in self.blocked and not email_hub else None
        link_phone = phone if phone not in self.blocked and not phone_hub else None
        via_email = self._primary_through("email", link_email)
        via_phone = self._primary_through("phone", link_phone)
        brings_new = (link_email is not None and via_email is None) or (
            link_phone is not None and via_phone is None
        )
        primaries = sorted({p for p in (via_email, via_phone) if p is not None})
        if not primaries:
            self._create(email, phone, None, link_email, link_phone)
            self.last_outcome = Outcome.CREATED_PRIMARY
            return self.answer(self.contacts[-1].id)
        if self._past_cap(primaries, via_email, via_phone):
            assert via_email is not None
            assert via_phone is not None
            pair = frozenset(primaries)
            if pair not in self.conflicts:
                self.conflicts[pair] = (via_email, via_phone, email or "", phone or "")
            self.last_outcome = Outcome.MERGE_HELD_BACK
            self.last_warnings |= {("merge_held_back", "phoneNumber")}
            return self.answer(via_email)
        winner, *losers = primaries  # the oldest primary has the lowest id
        if losers:
            assert link_email is not None
            assert link_phone is not None
            self.merges.append((link_email, link_phone))
        for contact in self.contacts:
            if contact.id in losers or contact.linked_id in losers:
                contact.linked_id = winner
        for pair in [pair for pair in self.conflicts if pair <= {winner, *losers}]:
            del self.conflicts[pair]
        if brings_new:
            self._create(email, phone, winner, link_email, link_phone)
            self.last_outcome = Outcome.ADDED_SECONDARY
        else:
            self.last_outcome = Outcome.MERGED if losers else Outcome.NOTHING_NEW
        return self.answer(winner)

    def erase(self, kind: str, value: str) -> list[Answer]:
        """Removes the value from every contact, and every merge it was evidence of; the clusters
        that held it become the components of what evidence is left, each with its oldest
        contact as primary. The clusters left, by primary id."""
        carriers = [c for c in self.contacts if (c.email if kind == "email" else c.phone) == value]
        if not carriers:
            return []
        affected = {self._primary_of(c) for c in carriers}
        members = [c for c in self.contacts if self._primary_of(c) in affected]
        for contact in carriers:
            if kind == "email":
                contact.email, contact.email_links = None, True
            else:
                contact.phone, contact.phone_links = None, True
        position = 0 if kind == "email" else 1
        self.merges = [merge for merge in self.merges if merge[position] != value]
        self.conflicts = {
            pair: conflict
            for pair, conflict in self.conflicts.items()
            if conflict[2 + position] != value
        }
        primaries = self._recompute(members)
        self._reside_conflicts()
        return [self.answer(primary) for primary in sorted(primaries)]

    def _reside_conflicts(self) -> None:
        """Each conflict's sides are the clusters holding its values now (erasure may have split
        a side away from its value); one whose values no longer link apart is settled."""
        resided: dict[frozenset[int], tuple[int, int, str, str]] = {}
        for _, _, email, phone in self.conflicts.values():
            email_side = self._primary_through("email", email)
            phone_side = self._primary_through("phone", phone)
            if email_side is None or phone_side is None or email_side == phone_side:
                continue
            pair = frozenset((email_side, phone_side))
            resided.setdefault(pair, (email_side, phone_side, email, phone))
        self.conflicts = resided

    def _recompute(self, members: list[ModelContact]) -> set[int]:
        parent = {c.id: c.id for c in members}

        def root(node: int) -> int:
            while parent[node] != node:
                node = parent[node]
            return node

        def join(ids: list[int]) -> None:
            for other in ids[1:]:
                parent[root(other)] = root(ids[0])

        for kind in ("email", "phone"):
            for value in {c.email if kind == "email" else c.phone for c in members} - {None}:
                join([c.id for c in members if value and c.links_through(kind, value)])
        for email, phone in self.merges:
            join(
                [
                    c.id
                    for c in members
                    if c.links_through("email", email) or c.links_through("phone", phone)
                ]
            )
        primaries = set()
        for contact in members:
            primary = min(c.id for c in members if root(c.id) == root(contact.id))
            contact.linked_id = None if primary == contact.id else primary
            primaries.add(primary)
        return primaries

    def _past_cap(self, primaries: list[int], via_email: int | None, via_phone: int | None) -> bool:
        """Two clusters, one by email and one by phone, too large together."""
        if len(primaries) < 2 or via_email is None or via_phone is None:
            return False
        return self.size(via_email) + self.size(via_phone) > self.max_cluster

    def _create(
        self,
        email: str | None,
        phone: str | None,
        primary: int | None,
        link_email: str | None,
        link_phone: str | None,
    ) -> None:
        contact = ModelContact(
            len(self.contacts) + 1,
            email,
            phone,
            primary,
            email_links=email is None or link_email is not None,
            phone_links=phone is None or link_phone is not None,
        )
        self.contacts.append(contact)

    def _is_hub(self, kind: str, value: str | None) -> bool:
        if value is None or value in self.blocked:
            return False
        holders = sum(1 for c in self.contacts if c.links_through(kind, value))
        return holders >= self.max_per_identifier

    def _primary_through(self, kind: str, value: str | None) -> int | None:
        if value is None:
            return None
        for contact in self.contacts:
            if contact.links_through(kind, value):
                return self._primary_of(contact)
        return None

    def _primary_of(self, contact: ModelContact) -> int:
        return contact.id if contact.linked_id is None else contact.linked_id

    def size(self, primary_id: int) -> int:
        return sum(1 for c in self.contacts if primary_id in (c.id, c.linked_id))

    def open_conflicts(self) -> set[tuple[int, int]]:
        """(email side, phone side) of each conflict whose clusters are still apart, by the
        primaries they have now."""
        by_id = {c.id: c for c in self.contacts}
        found = set()
        for email_side, phone_side, _, _ in self.conflicts.values():
            sides = (self._primary_of(by_id[email_side]), self._primary_of(by_id[phone_side]))
            if sides[0] != sides[1]:
                found.add(sides)
        return found

    def answer(self, primary_id: int) -> Answer:
        cluster = [c for c in self.contacts if primary_id in (c.id, c.linked_id)]
        return Answer(
            primary_id,
            tuple(dict.fromkeys(c.email for c in cluster if c.email is not None)),
            tuple(dict.fromkeys(c.phone for c in cluster if c.phone is not None)),
            tuple(c.id for c in cluster if c.id != primary_id),
        )


class IdRenaming:
    """Ids compared up to renaming: a consistent one-to-one map from service ids to model ids."""

    def __init__(self) -> None:
        self.to_model: dict[int, int] = {}
        self.to_service: dict[int, int] = {}

    def same(self, service_id: int, model_id: int) -> bool:
        known_model = self.to_model.setdefault(service_id, model_id)
        known_service = self.to_service.setdefault(model_id, service_id)
        return known_model == model_id and known_service == service_id

    def answer(
        self, ids: list[int], emails: list[str], phones: list[str], expected: Answer
    ) -> Answer:
        """The service's cluster (primary first) in the model's ids, if they map one to one."""
        model_ids = [expected.primary_id, *expected.secondary_ids]
        assert len(ids) == len(model_ids), (ids, expected)
        assert all(self.same(s, m) for s, m in zip(ids, model_ids, strict=True)), (ids, expected)
        return Answer(expected.primary_id, tuple(emails), tuple(phones), expected.secondary_ids)
