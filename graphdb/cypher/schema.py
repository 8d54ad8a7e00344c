"""The schema identify relies on (the contact id sequence is taken by graphdb.cypher.identify)."""

from typing import LiteralString

CONSTRAINTS: tuple[LiteralString, ...] = (
    "CREATE CONSTRAINT contact_id IF NOT EXISTS FOR (c:Contact) REQUIRE c.id IS UNIQUE",
    "CREATE CONSTRAINT email_value IF NOT EXISTS FOR (e:Email) REQUIRE e.value IS UNIQUE",
    "CREATE CONSTRAINT phone_value IF NOT EXISTS FOR (p:Phone) REQUIRE p.value IS UNIQUE",
    "CREATE CONSTRAINT contact_id_sequence_name IF NOT EXISTS "
    "FOR (s:ContactIdSequence) REQUIRE s.name IS UNIQUE",
    "CREATE CONSTRAINT api_key_name IF NOT EXISTS FOR (k:ApiKey) REQUIRE k.name IS UNIQUE",
    "CREATE CONSTRAINT api_key_hash IF NOT EXISTS FOR (k:ApiKey) REQUIRE k.hash IS UNIQUE",
    # One record per pair of clusters held apart (graphdb.cypher.identify HOLD_BACK_AND_READ).
    "CREATE CONSTRAINT conflict_key IF NOT EXISTS FOR (c:Conflict) REQUIRE c.key IS UNIQUE",
    # Erasure finds the conflicts naming the contacts of the clusters it recomputes by these.
    "CREATE INDEX conflict_email_side IF NOT EXISTS FOR (c:Conflict) ON (c.emailSideId)",
    "CREATE INDEX conflict_phone_side IF NOT EXISTS FOR (c:Conflict) ON (c.phoneSideId)",
    # One delivery cursor per name, so that one lease holder delivers (graphdb.cypher.outbox).
    "CREATE CONSTRAINT delivery_cursor_name IF NOT EXISTS "
    "FOR (c:DeliveryCursor) REQUIRE c.name IS UNIQUE",
    # The ledger (graphdb.ledger): an event's id is its cursor, and what marks a duplicate.
    "CREATE CONSTRAINT event_id IF NOT EXISTS FOR (e:Event) REQUIRE e.id IS UNIQUE",
    # Idempotent identify (graphdb.idempotency): one answer per key, and the purge's lookup.
    "CREATE CONSTRAINT idempotency_key IF NOT EXISTS "
    "FOR (k:IdempotencyKey) REQUIRE k.key IS UNIQUE",
    "CREATE INDEX idempotency_expiry IF NOT EXISTS FOR (k:IdempotencyKey) ON (k.expiresAt)",
    # Contacts carrying a value that links nobody (blocked, a hub's overflow), by that value:
    # erasure finds them there, having no edge to follow.
    "CREATE INDEX unlinked_email IF NOT EXISTS FOR (c:Unlinked) ON (c.email)",
    "CREATE INDEX unlinked_phone IF NOT EXISTS FOR (c:Unlinked) ON (c.phoneNumber)",
    # Webhooks' dead letters (graphdb.outbox): one per event and URL, and listed by id.
    "CREATE CONSTRAINT dead_letter_id IF NOT EXISTS FOR (d:DeadLetter) REQUIRE d.id IS UNIQUE",
    "CREATE INDEX dead_letter_event IF NOT EXISTS FOR (d:DeadLetter) ON (d.eventId, d.url)",
    # The outbox in order (graphdb.outbox), and the ledger by time (subscriptions).
    "CREATE INDEX outbox_at IF NOT EXISTS FOR (e:Outbox) ON (e.at)",
    "CREATE INDEX event_at IF NOT EXISTS FOR (e:Event) ON (e.at)",
)

# Before its constraint: a database whose workers raced for the first lease (before the
# constraint existed) may hold two cursors of one name, kept equal by MARK_DELIVERED; one goes.
FOLD_DELIVERY_CURSORS: LiteralString = """
MATCH (cursor:DeliveryCursor)
WITH cursor.name AS name, collect(cursor) AS cursors
WHERE size(cursors) > 1
UNWIND tail(cursors) AS extra
DELETE extra
"""

# The (label, property) pairs CONSTRAINTS makes unique: what readiness looks for.
UNIQUE_PROPERTIES: tuple[tuple[str, str], ...] = (
    ("Contact", "id"),
    ("Email", "value"),
    ("Phone", "value"),
    ("ContactIdSequence", "name"),
)

# Any name will do: an equivalent constraint made by hand serves as well as ours.
UNIQUE_PROPERTIES_PRESENT: LiteralString = """
SHOW CONSTRAINTS YIELD type, entityType, labelsOrTypes, properties
WHERE type IN ['UNIQUENESS', 'NODE_KEY'] AND entityType = 'NODE' AND size(properties) = 1
RETURN labelsOrTypes[0] AS label, properties[0] AS property
"""

AWAIT_INDEXES: LiteralString = "CALL db.awaitIndexes(60)"

# graphdb.migrations: whether one is done, by its name, and marking it done.
MIGRATION_DONE: LiteralString = """
OPTIONAL MATCH (done:Migration {name: $name})
RETURN done IS NOT NULL AS done
"""
MARK_MIGRATION_DONE: LiteralString = """
MERGE (done:Migration {name: $name})
ON CREATE SET done.at = datetime()
"""

# Each migration's step: up to $chunk items brought up to date, how many as `changed`; run until
# it changes fewer. The Unlinked label on contacts written before it:
LABEL_UNLINKED_CONTACTS: LiteralString = """
MATCH (contact:Contact)
WHERE (contact.emailUnlinked IS NOT NULL OR contact.phoneNumberUnlinked IS NOT NULL)
  AND NOT contact:Unlinked AND contact.deletedAt IS NULL
WITH contact LIMIT $chunk
SET contact:Unlinked
RETURN count(contact) AS changed
"""
# The hashes of values erased before erasure took them out of the ledger too: every ERASED
# event's, and the bridges whose value is gone (a merge's evidence edge to it deleted, a joined
# contact's value of that kind removed). A merge recanonicalize made before it pointed at its
# value has no evidence edge either: it loses its hash too, as there is no telling whether its
# value was erased since.
STRIP_ERASED_HASHES: LiteralString = """
MATCH (event:Event)
WHERE event.bridgeHash IS NOT NULL
  AND (event.kind = 'ERASED'
       OR (event.kind = 'MERGED' AND event.bridgeKind = 'email'
           AND NOT EXISTS { (event)-[:EVIDENCE]->(:Email) })
       OR (event.kind = 'MERGED' AND event.bridgeKind = 'phone'
           AND NOT EXISTS { (event)-[:EVIDENCE]->(:Phone) })
       OR (event.kind = 'LINKED' AND EXISTS {
             MATCH (event)-[:ABOUT]->(joined:Contact)
             WHERE (event.bridgeKind = 'email' AND joined.email IS NULL)
                OR (event.bridgeKind = 'phone' AND joined.phoneNumber IS NULL)
           }))
WITH event LIMIT $chunk
REMOVE event.bridgeHash
RETURN count(event) AS changed
"""
