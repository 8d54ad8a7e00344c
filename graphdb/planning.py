"""Plans every identify and read statement once, in a transaction that is rolled back.

A statement's first run plans it, which for the identify statements costs Neo4j 0.3 to 2 s of
CPU. Without this, the first burst of traffic after a start has every transaction planning the
same statements at once (plans are cached by statement text and parameter types).
"""

from __future__ import annotations

from typing import Any, LiteralString

from neo4j import AsyncDriver

from graphdb import cypher
from graphdb.ids import IdSequence
from graphdb.ledger import BridgeKind, MergeCause
from graphdb.requests import IdentifyRequest, batch_params

# Values validation never lets through (no @; letters in a phone), so planning never locks a
# real customer.
_EMAIL = "warm up"
_PHONE = "warm up"
_MISSING_ID = -1


# The identify statements plan with and without their create step: the contacts made are rolled
# back at the end, and take ids below zero from a sequence of their own, never the real one.
_IDS = IdSequence("warm up plans", base=-1_000_000, step=-1)


def _batch(requests: list[IdentifyRequest]) -> dict[str, Any]:
    return batch_params(requests, max_per_identifier=50, outbox=False, ids=_IDS)


_STATEMENTS: list[tuple[LiteralString, dict[str, Any]]] = [
    (
        cypher.IDENTIFY_BATCH,
        {
            "batch": _batch(
                [
                    IdentifyRequest(_EMAIL, _PHONE),
                    IdentifyRequest(_EMAIL + " 2", None),
                    IdentifyRequest(None, _PHONE + " 2"),
                ]
            )
        },
    ),
    (
        cypher.LOCK_PRIMARIES_AND_READ,
        {"batch": {**_batch([IdentifyRequest(_EMAIL, _PHONE)]), "primaryIds": [_MISSING_ID]}},
    ),
    (cypher.CLUSTER_SIZES, {"sizes": {"primaryIds": [_MISSING_ID]}}),
    (
        cypher.RELINK_SECONDARIES,
        {
            "relink": {
                "winnerId": _MISSING_ID,
                "loserId": _MISSING_ID,
                "chunk": 500,
                "cap": 1000,
                "sizeOf": [_MISSING_ID],
            }
        },
    ),
    (
        cypher.DEMOTE_AND_READ,
        {
            "merge": {
                "winnerId": _MISSING_ID,
                "loserIds": [_MISSING_ID],
                "conflictKeys": ["-1:-1"],
                "cause": MergeCause(BridgeKind.EMAIL, email=_EMAIL, phone=_PHONE).params(),
            }
        },
    ),
    (
        cypher.HOLD_BACK_AND_READ,
        {
            "conflict": {
                "key": "-1:-1",
                "emailSideId": _MISSING_ID,
                "phoneSideId": _MISSING_ID,
                "email": _EMAIL,
                "phone": _PHONE,
                "requestId": None,
            }
        },
    ),
    (cypher.READ_CONTACTS, {"page": {"ids": [_MISSING_ID]}}),
    (cypher.READ_CLUSTERS_OF_CONTACTS, {"read": {"ids": [_MISSING_ID]}}),
    (cypher.READ_CLUSTER_BY_ID, {"id": _MISSING_ID}),
    (cypher.READ_CLUSTER_BY_EMAIL, {"email": _EMAIL}),
    (cypher.READ_CLUSTER_BY_PHONE, {"phone": _PHONE}),
    (cypher.READ_HISTORY, {"history": {"contactId": _MISSING_ID, "first": 20, "after": None}}),
    (cypher.EXPLAIN_LINK, {"explain": {"a": _MISSING_ID, "b": _MISSING_ID - 1}}),
    (cypher.CLAIM_IDEMPOTENCY_KEYS, {"claim": {"keys": [{"index": 0, "key": _EMAIL}]}}),
    (
        cypher.STORE_IDEMPOTENT_ANSWERS,
        {
            "store": {
                "keys": [{"key": _EMAIL, "body": _EMAIL, "answer": "{}", "primaryId": _MISSING_ID}],
                "hours": 24,
            }
        },
    ),
    (cypher.PURGE_IDEMPOTENCY_KEYS, {"purge": {"chunk": 1000}}),
    (cypher.LOCK_VALUES_AND_FIND_CARRIERS, {"erase": {"emails": [_EMAIL], "phones": [_PHONE]}}),
    (cypher.READ_EVIDENCE, {"read": {"primaryIds": [_MISSING_ID]}}),
    (
        cypher.ERASE_VALUES,
        {
            "apply": {
                "values": [
                    {"kind": "email", "value": _EMAIL, "token": None, "carrierIds": [_MISSING_ID]}
                ],
                "memberIds": [_MISSING_ID],
                "contactId": _MISSING_ID,
                "requestId": None,
            }
        },
    ),
    (
        cypher.RELINK_AND_RECORD_SPLITS,
        {
            "relink": {
                "moves": [{"id": _MISSING_ID, "primaryId": _MISSING_ID}],
                "splits": [
                    {
                        "primaryBefore": _MISSING_ID,
                        "primaryAfter": _MISSING_ID,
                        "contactIds": [_MISSING_ID],
                    }
                ],
                "requestId": None,
            }
        },
    ),
]


async def warm_up_plans(driver: AsyncDriver, database: str) -> None:
    async with driver.session(database=database) as session:
        transaction = await session.begin_transaction()
        try:
            for statement, params in _STATEMENTS:
                await (await transaction.run(statement, params)).consume()
        finally:
            # Cancelled or failed midway, the transaction may be closed already.
            if not transaction.closed():
                await transaction.rollback()
