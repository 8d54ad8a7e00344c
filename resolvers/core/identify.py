"""The identify use case that both the GraphQL mutation and the REST shim call. It knows nothing
of HTTP or GraphQL: it returns the repository's record or raises InvalidIdentifier, and each API
maps those to its own shape."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from graphdb.idempotency import IdempotencyClaim
from graphdb.records import IdentifyRecord
from graphdb.repository import ContactRepository
from graphdb.requests import IdentifyRequest
from resolvers.core.identifiers import (
    Identifier,
    IdentifierRules,
    Identifiers,
    InvalidIdentifier,
)


async def identify(
    repository: ContactRepository,
    rules: IdentifierRules,
    email: str | None,
    phone_number: str | None,
    *,
    request_id: str | None = None,
    idempotency: IdempotencyClaim | None = None,
) -> IdentifyRecord:
    """Validate and canonicalise, then link. Invalid input raises InvalidIdentifier and writes
    nothing. A blocked value is recorded on the contact a request makes, and links nobody. With
    an idempotency claim (resolvers.core.idempotency), a repeat gets the first answer, and a
    reused key with another body raises IdempotencyKeyReused."""
    identifiers = rules.identifiers(email, phone_number)
    if isinstance(identifiers, InvalidIdentifier):
        raise identifiers
    request = sighting(identifiers, request_id=request_id)
    if idempotency is not None:
        request = dataclasses.replace(request, idempotency=idempotency)
    return await repository.identify_request(request)


def sighting(
    identifiers: Identifiers, created_at: datetime | None = None, request_id: str | None = None
) -> IdentifyRequest:
    """The repository's request for canonical values: blocked ones recorded, never linking."""
    return IdentifyRequest(
        email=_linking(identifiers.email),
        phone=_linking(identifiers.phone),
        created_at=created_at,
        blocked_email=_blocked(identifiers.email),
        blocked_phone=_blocked(identifiers.phone),
        email_as_sent=None if identifiers.email is None else identifiers.email.as_sent,
        phone_as_sent=None if identifiers.phone is None else identifiers.phone.as_sent,
        request_id=request_id,
    )


def _linking(identifier: Identifier | None) -> str | None:
    return None if identifier is None or identifier.blocked else identifier.value


def _blocked(identifier: Identifier | None) -> str | None:
    return identifier.value if identifier is not None and identifier.blocked else None
