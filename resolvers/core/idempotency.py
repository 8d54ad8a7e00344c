"""Idempotency-Key checks: a key a client may send with identify, scoped to its API key.

The key is stored only as a hash of (caller, key), so one caller's keys never answer another's,
and a key that carries something personal is not kept. The body is stored as a hash of the key
and the values as sent: the same body sent again, within the retention, gets the first answer;
another body with the same key is refused (graphdb.idempotency).
"""

from __future__ import annotations

import hashlib
import json

from graphdb.idempotency import IdempotencyClaim

# Stripe's limit: long enough for a UUID with a prefix, short enough to index.
MAX_KEY_LENGTH = 255


class InvalidIdempotencyKey(ValueError):
    code = "invalid_idempotency_key"
    field = "idempotencyKey"

    def __init__(self) -> None:
        self.message = (
            f"An Idempotency-Key is 1 to {MAX_KEY_LENGTH} printable ASCII characters, no spaces."
        )
        super().__init__(self.message)


def idempotency_claim(
    caller: str | None, key: str | None, email: str | None, phone_number: str | None
) -> IdempotencyClaim | None:
    """The claim a request makes with its key; None without one. InvalidIdempotencyKey for a key
    outside the accepted form."""
    if key is None:
        return None
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not all("!" <= char <= "~" for char in key):
        raise InvalidIdempotencyKey
    # The caller's name and the key, unambiguous however either is spelt. The body's hash takes
    # the key in too: a phone number's plain hash could be found by trying them all, but not
    # without the key, which is stored only hashed.
    scoped = json.dumps([caller, key]).encode()
    body = json.dumps([caller, key, email, phone_number]).encode()
    return IdempotencyClaim(
        key=hashlib.sha256(scoped).hexdigest(),
        body=hashlib.sha256(body).hexdigest(),
        caller=caller,
    )
