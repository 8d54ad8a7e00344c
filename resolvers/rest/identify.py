"""The legacy REST shim: POST /identify in the exact legacy response shape, and nothing else."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.types import Message, Receive, Scope, Send

from graphdb.idempotency import IdempotencyKeyReused, IdempotencyKeysExhausted
from resolvers.core.idempotency import InvalidIdempotencyKey, idempotency_claim
from resolvers.core.identifiers import InvalidIdentifier
from resolvers.core.identify import identify
from resolvers.rest.errors import ApiError, invalid_input, unsupported_media_type
from resolvers.runtime import json_body
from resolvers.runtime.asgi import picked_headers
from resolvers.runtime.logs import note_identifiers, note_outcome, request_id

_HEADERS = frozenset({b"content-type", b"idempotency-key"})


class IdentifyEndpoint:
    """A plain ASGI app, not a Starlette endpoint: the hot path builds no Request or Response
    object. Refusals are raised as ApiError, and the app's error handlers answer them."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = picked_headers(scope, _HEADERS)
        payload = _json_object(headers.get(b"content-type"), await _body(receive))
        email = _optional_string(payload, "email")
        phone_number = _optional_phone(payload)
        state = scope["state"]
        idempotency_key = headers.get(b"idempotency-key")
        try:
            claim = idempotency_claim(
                state["caller"].name,
                None if idempotency_key is None else idempotency_key.decode("latin-1"),
                email,
                phone_number,
            )
            result = await identify(
                state["repository"],
                state["rules"],
                email,
                phone_number,
                request_id=request_id.get(),
                idempotency=claim,
            )
        except (InvalidIdentifier, InvalidIdempotencyKey) as error:
            raise invalid_input(error.code, error.message) from None
        except IdempotencyKeyReused as error:
            raise ApiError(422, error.code, error.answer) from None
        except IdempotencyKeysExhausted as error:
            raise ApiError(429, error.code, error.answer) from None
        note_outcome(result.outcome.value)
        note_identifiers(email, phone_number)
        cluster = result.cluster
        body = orjson.dumps(
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
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-length", str(len(body)).encode()),
                    (b"content-type", b"application/json"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


async def _body(receive: Receive) -> bytes:
    # The gateway read the whole body (under its size limit and deadline) and hands it over as
    # one message.
    message: Message = await receive()
    body: bytes = message.get("body", b"")
    return body


def _json_object(content_type: bytes | None, body: bytes) -> dict[str, Any]:
    # A missing type is refused too: a page in a victim's browser can post a body with none (or
    # text/plain) to a service on their machine without a CORS preflight, never a JSON one.
    media_type = (content_type or b"").decode("latin-1").partition(";")[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise unsupported_media_type()
    payload = _parsed(body)
    if not isinstance(payload, dict):
        raise invalid_input("body_not_object", "The body must be a JSON object.")
    return payload


def _parsed(body: bytes) -> Any:
    try:
        return json_body.loads(body)
    # ValueError covers bad UTF-8 and huge integers; RecursionError very deep nesting.
    except (ValueError, RecursionError):
        raise invalid_input("malformed_json", "The body is not valid JSON.") from None


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
