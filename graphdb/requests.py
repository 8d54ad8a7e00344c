"""One identify request as the repository queues it, and as a row of a batch transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from graphdb.ids import IdLender


@dataclass(frozen=True)
class IdentifyRequest:
    """An (email, phone) sighting, already canonical; created_at None means now."""

    email: str | None
    phone: str | None
    created_at: datetime | None = None

    @property
    def keys(self) -> tuple[tuple[str, str], ...]:
        """The identifiers it locks: two requests sharing one never share a batch."""
        keys = (("email", self.email),) if self.email is not None else ()
        return keys + ((("phone", self.phone),) if self.phone is not None else ())


@dataclass(frozen=True)
class BatchRow:
    request: IdentifyRequest
    # The id its new contact takes if it makes one: lent on the first run of the transaction,
    # the same on every retry, given back after the commit if unused.
    ids: IdLender

    def params(self, index: int) -> dict[str, Any]:
        return {
            "index": index,
            "email": self.request.email,
            "phone": self.request.phone,
            "id": self.ids.lend(),
            "createdAt": self.request.created_at,
        }
