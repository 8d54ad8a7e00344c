"""A plain-Python reference model of docs/rules.md's identify rules, for model-based tests."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ModelContact:
    id: int
    email: str | None
    phone: str | None
    linked_id: int | None = None

    @property
    def is_primary(self) -> bool:
        return self.linked_id is None


@dataclass(frozen=True)
class Answer:
    primary_id: int
    emails: tuple[str, ...]
    phone_numbers: tuple[str, ...]
    secondary_ids: tuple[int, ...]


@dataclass
class ReferenceModel:
    """Contacts in creation order; ids 1, 2, 3, ... so creation order is id order."""

    contacts: list[ModelContact] = field(default_factory=list)

    def identify(self, email: str | None, phone: str | None) -> Answer:
        matching = [
            c for c in self.contacts
            if (email is not None and c.email == email) or (phone is not None and c.phone == phone)
        ]  # fmt: skip
        primaries = sorted({self._primary_of(c) for c in matching})
        if not primaries:
            self.contacts.append(ModelContact(len(self.contacts) + 1, email, phone))
            return self.answer(len(self.contacts))
        winner, *losers = primaries  # the oldest primary has the lowest id
        for contact in self.contacts:
            if contact.id in losers or contact.linked_id in losers:
                contact.linked_id = winner
        email_known = email is None or any(c.email == email for c in self.contacts)
        phone_known = phone is None or any(c.phone == phone for c in self.contacts)
        if not (email_known and phone_known):
            self.contacts.append(ModelContact(len(self.contacts) + 1, email, phone, winner))
        return self.answer(winner)

    def _primary_of(self, contact: ModelContact) -> int:
        return contact.id if contact.linked_id is None else contact.linked_id

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
