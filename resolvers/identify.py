"""The identify service function that both the GraphQL mutation and the REST shim call."""

from __future__ import annotations

from graphdb.repository import ContactRepository
from resolvers.identifiers import InvalidIdentifier, canonical_identifiers
from resolvers.metrics import count_outcome
from resolvers.request_log import note_outcome
from schema.errors import InvalidInput
from schema.types import Identity


async def identify(
    repository: ContactRepository, email: str | None, phone_number: str | None
) -> Identity | InvalidInput:
    """Validate and canonicalise, then link; invalid input writes nothing."""
    identifiers = canonical_identifiers(email, phone_number)
    if isinstance(identifiers, InvalidIdentifier):
        return InvalidInput(
            code=identifiers.code, message=identifiers.message, field=identifiers.field
        )
    result = await repository.identify(identifiers.email, identifiers.phone)
    count_outcome(result.outcome)
    note_outcome(result.outcome.value)
    return Identity.from_record(result.cluster)
