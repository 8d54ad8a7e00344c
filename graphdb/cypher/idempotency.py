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
       CASE WHEN key.expiresAt > datetime() THEN key.answer END AS answer,
       // The answer holds ids, not values: the values of its contacts, as they are now (a
       // contact's values never change, but erasure removes them).
       CASE WHEN key.expiresAt > datetime() THEN COLLECT {
         UNWIND key.contactIds AS contactId
         MATCH (contact:Contact {id: contactId})
         RETURN [contact.id, contact.email, contact.phoneNumber, contact.emailAsSent,
                 contact.phoneNumberAsSent]
       } END AS values
"""
)

# Keys claimed by this transaction that it refuses to answer: created empty by the claim.
FORGET_IDEMPOTENCY_CLAIMS: LiteralString = (
    OPTIONS
    + """
UNWIND $forget.keys AS forgotten
MATCH (key:IdempotencyKey {key: forgotten})
WHERE key.answer IS NULL
DELETE key
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
    key.contactIds = stored.contactIds,
    key.at = datetime.truncate('microsecond', datetime.statement()),
    key.expiresAt = datetime.statement() + duration({hours: $store.hours})
// The answer names its cluster's contacts, and the body's hash stands for the request's values:
// erasure deletes the key with them.
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
