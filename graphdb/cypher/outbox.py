"""The statements of change events out (graphdb.outbox): the ledger's undelivered events in
order, the delivery cursor and its lease, and the reads that feed subscriptions."""

from typing import LiteralString

from graphdb.cypher.clusters import OPTIONS
from graphdb.cypher.ledger import event_map

# One process at a time delivers webhooks (in order); it holds the cursor's lease, renewing it
# while it works. Another takes over once the lease has run out (a crashed or stopped owner).
# The cursor is write-locked before its owner is read: read first, every worker asking at once
# saw the same run-out lease and each took it (a lost update), sending the outbox twice and out
# of order. Its name's uniqueness constraint makes MERGE create one cursor, not one per taker.
TAKE_DELIVERY_LEASE: LiteralString = (
    OPTIONS
    + """
MERGE (cursor:DeliveryCursor {name: $lease.name})
SET cursor._lock = true
REMOVE cursor._lock
WITH cursor
WHERE cursor.owner IS NULL OR cursor.owner = $lease.owner OR cursor.leaseUntil < datetime()
SET cursor.owner = $lease.owner,
    cursor.leaseUntil = datetime() + duration({seconds: $lease.seconds})
RETURN cursor.owner AS owner
"""
)

# The oldest undelivered events, in the order they were written (each cluster's events are in
# the order they committed: graphdb.ledger), through the Outbox label's index on `at`.
READ_OUTBOX: LiteralString = (
    OPTIONS
    + """
MATCH (event:Outbox)
WHERE event.at IS NOT NULL
WITH event ORDER BY event.at, event.id LIMIT $outbox.limit
RETURN """
    + event_map("event")
    + """ AS event
"""
)

# Delivered to every URL: out of the outbox, and the cursor moved past it.
MARK_DELIVERED: LiteralString = (
    OPTIONS
    + """
UNWIND $delivered.ids AS eventId
MATCH (event:Event {id: eventId})
REMOVE event:Outbox
WITH max(event.at) AS through, count(event) AS delivered
MATCH (cursor:DeliveryCursor {name: $delivered.name})
SET cursor.deliveredThrough = coalesce(through, cursor.deliveredThrough),
    cursor.lastEventId = $delivered.lastId,
    cursor.deliveredAt = datetime(),
    cursor.delivered = coalesce(cursor.delivered, 0) + delivered
RETURN delivered
"""
)

# How far behind delivery is: the oldest undelivered event's age, in seconds (0 when none).
OUTBOX_LAG: LiteralString = (
    OPTIONS
    + """
OPTIONAL MATCH (event:Outbox)
WHERE event.at IS NOT NULL
WITH event ORDER BY event.at LIMIT 1
RETURN CASE WHEN event IS NULL THEN 0.0
            ELSE duration.inSeconds(event.at, datetime()).seconds
                 + duration.inSeconds(event.at, datetime()).nanosecondsOfSecond / 1e9
       END AS lag,
       COUNT { (waiting:Outbox) } AS waiting
"""
)

# Events written at $tail.since (text, ISO 8601) or later, oldest first: what subscriptions
# follow, through the index on Event.at.
READ_EVENTS_SINCE: LiteralString = (
    OPTIONS
    + """
MATCH (event:Event)
WHERE event.at >= datetime($tail.since)
WITH event ORDER BY event.at, event.id LIMIT $tail.limit
RETURN """
    + event_map("event")
    + """ AS event
"""
)

# Neo4j's clock now: where a subscription starts.
LEDGER_NOW: LiteralString = (
    "RETURN toString(datetime.truncate('microsecond', datetime.realtime())) AS now"
)

# An event a webhook URL would not take (a permanent refusal, or past WEBHOOK_MAX_AGE_SECONDS),
# set aside so that the events behind it go on; one per event and URL. The URL is named by its
# place in WEBHOOK_URLS and a hash of it (a URL may hold a token), so a replay finds it again.
DEAD_LETTER: LiteralString = (
    OPTIONS
    + """
MATCH (event:Event {id: $dead.eventId})
MERGE (letter:DeadLetter {eventId: $dead.eventId, url: $dead.url})
ON CREATE SET letter.id = randomUUID(), letter.at = datetime(), letter.urlNumber = $dead.urlNumber,
              letter.reason = $dead.reason, letter.status = $dead.status
MERGE (letter)-[:OF]->(event)
"""
)

# The dead letters, oldest first (or the one of $dead.id), with their events as reads return them.
LIST_DEAD_LETTERS: LiteralString = (
    OPTIONS
    + """
MATCH (letter:DeadLetter)-[:OF]->(event:Event)
WHERE $dead.id IS NULL OR letter.id = $dead.id
WITH letter, event ORDER BY letter.at, letter.id LIMIT $dead.limit
RETURN letter {.id, .eventId, .url, .urlNumber, .reason, .status, at: toString(letter.at)}
         AS letter, """
    + event_map("event")
    + """ AS event
"""
)

DROP_DEAD_LETTER: LiteralString = (
    OPTIONS
    + """
MATCH (letter:DeadLetter {id: $dead.id})
DETACH DELETE letter
RETURN count(*) AS dropped
"""
)
