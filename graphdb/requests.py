"""One identify request as the repository queues it, and as a row of a batch transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from graphdb.idempotency import IdempotencyClaim
from graphdb.ids import IdLender


@dataclass(frozen=True)
class IdentifyRequest:
    """An (email, phone) sighting, already canonical; created_at None means now.

    email and phone are the values it links through; a blocked value comes as blocked_email or
    blocked_phone instead. The as-sent texts are kept on a new contact where they differ from
    the canonical form, for audit.
    """

    email: str | None
    phone: str | None
    created_at: datetime | None = None
    blocked_email: str | None = None
    blocked_phone: str | None = None
    email_as_sent: str | None = None
    phone_as_sent: str | None = None
    request_id: str | None = None
    # The keyed hashes of email and phone, for the ledger (graphdb.ledger): the repository fills
    # them in.
    email_token: str | None = None
    phone_token: str | None = None
    # Its Idempotency-Key, scoped and hashed, with the hash of its body (graphdb.idempotency).
    idempotency: IdempotencyClaim | None = None

    @property
    def keys(self) -> tuple[tuple[str, str], ...]:
        """The identifiers and idempotency key it locks: two requests sharing one never share
        a batch."""
        keys = [("email", self.email)] if self.email is not None else []
        if self.phone is not None:
            keys.append(("phone", self.phone))
        if self.idempotency is not None:
            keys.append(("idempotency", self.idempotency.key))
        return tuple(keys)


@dataclass(frozen=True)
class BatchRow:
    request: IdentifyRequest
    # The id its new contact takes if it makes one: lent on the first run of the transaction,
    # the same on every retry, given back after the commit if unused.
    ids: IdLender

    def params(self, index: int) -> dict[str, Any]:
        return row_params(index, self.request, self.ids.lend())


def row_params(index: int, request: IdentifyRequest, contact_id: int) -> dict[str, Any]:
    """A row of $batch.rows, as graphdb.cypher.identify reads it."""
    email = request.email if request.email is not None else request.blocked_email
    phone = request.phone if request.phone is not None else request.blocked_phone
    return {
        "index": index,
        "email": request.email,
        "phone": request.phone,
        "storedEmail": email,
        "storedPhone": phone,
        "emailBlocked": None if request.blocked_email is None else "blocked",
        "phoneBlocked": None if request.blocked_phone is None else "blocked",
        "emailAsSent": _if_different(request.email_as_sent, email),
        "phoneAsSent": _if_different(request.phone_as_sent, phone),
        "id": contact_id,
        "createdAt": request.created_at,
        "requestId": request.request_id,
        "emailToken": request.email_token,
        "phoneToken": request.phone_token,
    }


def _if_different(as_sent: str | None, stored: str | None) -> str | None:
    return None if as_sent is None or as_sent == stored else as_sent
