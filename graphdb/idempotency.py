"""Idempotent identify: a request sent again with its Idempotency-Key gets the first answer.

The key (already scoped to the caller and hashed: resolvers.core.idempotency) is claimed in the
identify transaction itself, before anything else is locked: MERGE on a uniqueness-constrained
value makes a concurrent request with the same key wait until the first commits, then find its
answer. The answer is stored in that same transaction, so a key is either absent or holds the
answer of a committed write; never one without the other.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from graphdb import cypher
from graphdb.driver import Tx
from graphdb.records import (
    ClusterRecord,
    ContactRecord,
    IdentifyOutcome,
    IdentifyRecord,
    IdentityWarning,
    MemberRecord,
)

# How long a key is kept after its first request (the 24 hours; IDEMPOTENCY_KEY_HOURS).
DEFAULT_HOURS = 24
# Expired keys deleted by one statement of the purge.
PURGE_CHUNK = 1000


@dataclass(frozen=True)
class IdempotencyClaim:
    """A request's key, scoped to its caller and hashed, and the hash of its body."""

    key: str
    body: str
    # The API key's name, for the count of keys it keeps (never stored).
    caller: str | None = None
    # False once the caller keeps as many live keys as it may: only a stored key is answered.
    new_allowed: bool = True


class IdempotencyKeyReused(Exception):
    """The key came before with a different body, less than its retention ago."""

    code = "idempotency_key_reused"
    answer = "This Idempotency-Key was used with a different request."


class IdempotencyKeysExhausted(Exception):
    """The caller keeps as many live keys as it may (IDEMPOTENCY_KEYS_PER_API_KEY): a new one
    would store another answer."""

    code = "idempotency_keys_exhausted"
    answer = (
        "This API key keeps as many live Idempotency-Keys as it may; send the request without "
        "one, or reuse a key within its retention."
    )


class LiveKeyCounts:
    """The new keys each caller stored in this process over the keys' retention, by the hour:
    what caps one caller's idempotency storage (per process, as rate limits are counted)."""

    def __init__(self, cap: int | None, hours: int, clock: Callable[[], float] = time.time) -> None:
        self._cap = cap
        self._hours = hours
        self._clock = clock
        self._stored: dict[str | None, dict[int, int]] = {}

    def allows_new(self, caller: str | None) -> bool:
        if self._cap is None:
            return True
        return sum(self._live(caller).values()) < self._cap

    def stored(self, caller: str | None) -> None:
        if self._cap is not None:
            live = self._live(caller)
            hour = int(self._clock() // 3600)
            live[hour] = live.get(hour, 0) + 1

    def _live(self, caller: str | None) -> dict[int, int]:
        oldest = int(self._clock() // 3600) - self._hours
        live = self._stored.setdefault(caller, {})
        for hour in [hour for hour in live if hour < oldest]:
            del live[hour]
        return live


@dataclass(frozen=True)
class StoredKey:
    body: str
    answer: str
    # Each contact the answer names, as [id, email, phone, email as sent, phone as sent] now.
    values: tuple[tuple[Any, ...], ...] = ()


async def claim_keys(tx: Tx, claims: dict[int, IdempotencyClaim]) -> dict[int, StoredKey]:
    """Claims the keys of these rows (by index), in key order; returns those a committed
    request already answered, and that have not expired."""
    in_order = sorted(claims.items(), key=lambda item: item[1].key)
    keys = [{"index": index, "key": claim.key} for index, claim in in_order]
    result = await tx.run(cypher.CLAIM_IDEMPOTENCY_KEYS, claim={"keys": keys})
    return {
        record["index"]: StoredKey(
            record["body"], record["answer"], tuple(tuple(v) for v in record["values"] or ())
        )
        async for record in result
        if record["answer"] is not None
    }


async def forget_claims(tx: Tx, claims: list[IdempotencyClaim]) -> None:
    """Deletes keys this transaction claimed but will not answer (IdempotencyKeysExhausted), so
    that no key is left without an answer or an expiry."""
    forget = {"keys": [claim.key for claim in claims]}
    await tx.run(cypher.FORGET_IDEMPOTENCY_CLAIMS, forget=forget)


async def store_answers(
    tx: Tx, answers: list[tuple[IdempotencyClaim, IdentifyRecord]], hours: int
) -> None:
    keys = [
        {
            "key": claim.key,
            "body": claim.body,
            "answer": encode_answer(record),
            "contactIds": [contact.id for contact in record.cluster.contacts],
            "primaryId": record.cluster.primary.id,
        }
        for claim, record in answers
    ]
    await tx.run(cypher.STORE_IDEMPOTENT_ANSWERS, store={"keys": keys, "hours": hours})


def replay(claim: IdempotencyClaim, stored: StoredKey) -> IdentifyRecord | IdempotencyKeyReused:
    if stored.body != claim.body:
        return IdempotencyKeyReused(IdempotencyKeyReused.answer)
    return decode_answer(stored.answer, stored.values)


# The primary's fields an answer keeps; its values are read again on replay.
_VALUES = ("email", "phone_number", "email_as_sent", "phone_number_as_sent")


def encode_answer(record: IdentifyRecord) -> str:
    """The answer as ids and what identifies nobody: no value is stored under a key, so that
    one caller's keys cannot hold (or be made to hold) copies of a cluster's values."""
    primary = dataclasses.asdict(record.cluster.primary)
    return json.dumps(
        {
            "primary": {name: value for name, value in primary.items() if name not in _VALUES},
            "secondaryIds": [member.id for member in record.cluster.secondaries],
            "warnings": [[warning.value, field] for warning, field in record.warnings],
        },
        separators=(",", ":"),
    )


def decode_answer(text: str, values: tuple[tuple[Any, ...], ...]) -> IdentifyRecord:
    """The stored answer with its contacts' values as they are now, its outcome REPLAYED:
    nothing was written this time. A contact gone since answers with no values."""
    answer = json.loads(text)
    if "secondaries" in answer:
        return _decode_with_values(answer)
    by_id = {row[0]: row[1:] for row in values}
    email, phone, email_sent, phone_sent = by_id.get(answer["primary"]["id"], (None,) * 4)
    primary = ContactRecord(
        **answer["primary"],
        email=email,
        phone_number=phone,
        email_as_sent=email_sent,
        phone_number_as_sent=phone_sent,
    )
    secondaries = tuple(
        MemberRecord(contact_id, *by_id.get(contact_id, (None, None))[:2])
        for contact_id in answer["secondaryIds"]
    )
    warnings = tuple((IdentityWarning(code), field) for code, field in answer["warnings"])
    return IdentifyRecord(ClusterRecord(primary, secondaries), IdentifyOutcome.REPLAYED, warnings)


def _decode_with_values(answer: dict[str, Any]) -> IdentifyRecord:
    """An answer stored before answers held ids only (expired within IDEMPOTENCY_KEY_HOURS of
    the upgrade)."""
    cluster = ClusterRecord(
        ContactRecord(**answer["primary"]),
        tuple(MemberRecord(*member) for member in answer["secondaries"]),
    )
    warnings = tuple((IdentityWarning(code), field) for code, field in answer["warnings"])
    return IdentifyRecord(cluster, IdentifyOutcome.REPLAYED, warnings)


async def purge_expired(tx: Tx) -> int:
    """Deletes up to PURGE_CHUNK expired keys; the caller repeats while it gets a full chunk."""
    result = await tx.run(cypher.PURGE_IDEMPOTENCY_KEYS, purge={"chunk": PURGE_CHUNK})
    record = await result.single(strict=True)
    return int(record["deleted"])
