"""One identify request as the repository queues it, and a batch of them as the identify
statements take it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from graphdb.idempotency import IdempotencyClaim
from graphdb.ids import IdSequence


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


def batch_params(
    requests: Sequence[IdentifyRequest],
    *,
    max_per_identifier: int,
    outbox: bool,
    ids: IdSequence,
) -> dict[str, Any]:
    """$batch of the identify statements (graphdb.cypher.identify): the rows, and their values
    sorted, the order they are locked in. A row finds its locked nodes by position."""
    emails = sorted({request.email for request in requests if request.email is not None})
    phones = sorted({request.phone for request in requests if request.phone is not None})
    email_at = {email: position for position, email in enumerate(emails)}
    phone_at = {phone: position for position, phone in enumerate(phones)}
    return {
        "rows": [
            _row_params(
                index,
                request,
                None if request.email is None else email_at[request.email],
                None if request.phone is None else phone_at[request.phone],
            )
            for index, request in enumerate(requests)
        ],
        "emails": emails,
        "phones": phones,
        "maxPerIdentifier": max_per_identifier,
        "outbox": outbox,
        "ids": ids.params(),
    }


def _row_params(
    index: int, request: IdentifyRequest, email_at: int | None, phone_at: int | None
) -> dict[str, Any]:
    """A row of $batch.rows, as graphdb.cypher.identify reads it."""
    email = request.email if request.email is not None else request.blocked_email
    phone = request.phone if request.phone is not None else request.blocked_phone
    return {
        "index": index,
        "email": request.email,
        "phone": request.phone,
        "emailAt": email_at,
        "phoneAt": phone_at,
        "storedEmail": email,
        "storedPhone": phone,
        "emailBlocked": None if request.blocked_email is None else "blocked",
        "phoneBlocked": None if request.blocked_phone is None else "blocked",
        "emailAsSent": _if_different(request.email_as_sent, email),
        "phoneAsSent": _if_different(request.phone_as_sent, phone),
        "createdAt": request.created_at,
        "requestId": request.request_id,
        "emailToken": request.email_token,
        "phoneToken": request.phone_token,
    }


def _if_different(as_sent: str | None, stored: str | None) -> str | None:
    return None if as_sent is None or as_sent == stored else as_sent
