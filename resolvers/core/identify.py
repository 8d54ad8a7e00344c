"""The identify use case that both the GraphQL mutation and the REST shim call. It knows nothing
of HTTP or GraphQL: it returns the repository's record or raises InvalidIdentifier, and each API
maps those to its own shape."""

from __future__ import annotations

from graphdb.records import IdentifyRecord
from graphdb.repository import ContactRepository
from resolvers.core.identifiers import InvalidIdentifier, canonical_identifiers


async def identify(
    repository: ContactRepository, email: str | None, phone_number: str | None
) -> IdentifyRecord:
    """Validate and canonicalise, then link. Invalid input raises InvalidIdentifier and writes
    nothing."""
    identifiers = canonical_identifiers(email, phone_number)
    if isinstance(identifiers, InvalidIdentifier):
        raise identifiers
    return await repository.identify(identifiers.email, identifiers.phone)
