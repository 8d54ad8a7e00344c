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
from dataclasses import dataclass

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


class IdempotencyKeyReused(Exception):
    """The key came before with a different body, less than its retention ago."""

    code = "idempotency_key_reused"
    answer = "This Idempotency-Key was used with a different request."


@dataclass(frozen=True)
class StoredKey:
    body: str
    answer: str


async def claim_keys(tx: Tx, claims: dict[int, IdempotencyClaim]) -> dict[int, StoredKey]:
    """Claims the keys of these rows (by index), in key order; returns those a committed
    request already answered, and that have not expired."""
    in_order = sorted(claims.items(), key=lambda item: item[1].key)
    keys = [{"index": index, "key": claim.key} for index, claim in in_order]
    result = await tx.run(cypher.CLAIM_IDEMPOTENCY_KEYS, claim={"keys": keys})
    return {
        record["index"]: StoredKey(record["body"], record["answer"])
        async for record in result
        if record["answer"] is not None
    }


async def store_answers(
    tx: Tx, answers: list[tuple[IdempotencyClaim, IdentifyRecord]], hours: int
) -> None:
    keys = [
        {
            "key": claim.key,
            "body": claim.body,
            "answer": encode_answer(record),
            "primaryId": record.cluster.primary.id,
        }
        for claim, record in answers
    ]
    await tx.run(cypher.STORE_IDEMPOTENT_ANSWERS, store={"keys": keys, "hours": hours})


def replay(claim: IdempotencyClaim, stored: StoredKey) -> IdentifyRecord | IdempotencyKeyReused:
    if stored.body != claim.body:
        return IdempotencyKeyReused(IdempotencyKeyReused.answer)
    return decode_answer(stored.answer)


def encode_answer(record: IdentifyRecord) -> str:
    return json.dumps(
        {
            "primary": dataclasses.asdict(record.cluster.primary),
            "secondaries": [[m.id, m.email, m.phone_number] for m in record.cluster.secondaries],
            "warnings": [[warning.value, field] for warning, field in record.warnings],
        },
        separators=(",", ":"),
    )


def decode_answer(text: str) -> IdentifyRecord:
    """The stored answer, its outcome REPLAYED: nothing was written this time."""
    answer = json.loads(text)
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
