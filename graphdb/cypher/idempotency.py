"""The statements of idempotent identify (graphdb.idempotency)."""

from typing import LiteralString

from graphdb.cypher.clusters import OPTIONS

# Each key of the batch, in key order, before any identifier: MERGE on the unique key waits for
# a transaction that is creating the same one, then finds it. A key past its expiry counts as
# new (its answer is overwritten at the end).
CLAIM_IDEMPOTENCY_KEYS: LiteralString = (
    OPTIONS
    + """
UNWIND $claim.keys AS claim
MERGE (key:IdempotencyKey {key: claim.key})
// MERGE write-locks only a key it creates: an existing one (expired, say) is locked here, so
// two requests with one key never both run identify.
SET key._lock = true
REMOVE key._lock
RETURN claim.index AS index,
       CASE WHEN key.expiresAt > datetime() THEN key.body END AS body,
       CASE WHEN key.expiresAt > datetime() THEN key.answer END AS answer
"""
)

STORE_IDEMPOTENT_ANSWERS: LiteralString = (
    OPTIONS
    + """
UNWIND $store.keys AS stored
// Claimed and locked by this transaction; MERGE all the same, so no answer is ever dropped.
MERGE (key:IdempotencyKey {key: stored.key})
SET key.body = stored.body,
    key.answer = stored.answer,
    key.at = datetime.truncate('microsecond', datetime.statement()),
    key.expiresAt = datetime.statement() + duration({hours: $store.hours})
// The answer shows its cluster's values: erasure deletes it with them.
WITH key, stored
MATCH (primary:Contact {id: stored.primaryId})
CREATE (key)-[:ANSWERED]->(primary)
"""
)

PURGE_IDEMPOTENCY_KEYS: LiteralString = (
    OPTIONS
    + """
MATCH (key:IdempotencyKey)
WHERE key.expiresAt < datetime()
WITH key LIMIT $purge.chunk
DETACH DELETE key
RETURN count(*) AS deleted
"""
)
