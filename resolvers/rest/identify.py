"""The legacy REST shim: POST /identify in the exact legacy response shape, and nothing else."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from graphdb.idempotency import IdempotencyKeyReused
from resolvers.core.idempotency import InvalidIdempotencyKey, idempotency_claim
from resolvers.core.identifiers import InvalidIdentifier
from resolvers.core.identify import identify
from resolvers.rest.errors import ApiError, invalid_input, unsupported_media_type
from resolvers.runtime.logs import note_identifiers, note_outcome, request_id


async def identify_endpoint(request: Request) -> JSONResponse:
    payload = await _json_object(request)
    email = _optional_string(payload, "email")
    phone_number = _optional_phone(payload)
    try:
        claim = idempotency_claim(
            request.state.caller.name,
            request.headers.get("idempotency-key"),
            email,
            phone_number,
        )
        result = await identify(
            request.state.repository,
            request.state.rules,
            email,
            phone_number,
            request_id=request_id.get(),
            idempotency=claim,
        )
    except (InvalidIdentifier, InvalidIdempotencyKey) as error:
        raise invalid_input(error.code, error.message) from None
    except IdempotencyKeyReused as error:
        raise ApiError(422, error.code, error.answer) from None
    note_outcome(result.outcome.value)
    note_identifiers(email, phone_number)
    cluster = result.cluster
    return JSONResponse(
        {
            "contact": {
                # The legacy key keeps its misspelling: existing clients read it.
                "primaryContatctId": cluster.primary.id,
                "emails": cluster.emails,
                "phoneNumbers": cluster.phone_numbers,
                "secondaryContactIds": [contact.id for contact in cluster.secondaries],
            }
        }
    )


async def _json_object(request: Request) -> dict[str, Any]:
    # A missing type is refused too: a page in a victim's browser can post a body with none (or
    # text/plain) to a service on their machine without a CORS preflight, never a JSON one.
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise unsupported_media_type()
    body = await request.body()
    try:
        payload = json.loads(body)
    # ValueError covers bad UTF-8 and huge integers; RecursionError very deep nesting.
    except (ValueError, RecursionError):
        raise invalid_input("malformed_json", "The body is not valid JSON.") from None
    if not isinstance(payload, dict):
        raise invalid_input("body_not_object", "The body must be a JSON object.")
    return payload


def _optional_string(payload: dict[str, Any], key: str) -> str | None:
    value = payload.get(key)
    if value is None or isinstance(value, str):
        return value
    raise invalid_input("invalid_type", f"{key} must be a string or null.")


def _optional_phone(payload: dict[str, Any]) -> str | None:
    value = payload.get("phoneNumber")
    # The original API typed the phone as a number: an integer means its decimal digits.
    # bool is an int in Python, and true is not a phone number.
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise invalid_input("invalid_phone", "phoneNumber must not be negative.")
        return str(value)
    if value is None or isinstance(value, str):
        return value
    raise invalid_input("invalid_type", "phoneNumber must be a string, an integer or null.")
