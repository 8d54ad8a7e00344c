"""The ledger's statements (graphdb.ledger): the MERGED entry a merge writes, and the reads of a
cluster's history."""

from typing import LiteralString

from graphdb.cypher.clusters import MEMBERS, OPTIONS, primary_of

# When an event happened: Neo4j's clock as the statement writes it, after the statement's locks
# are taken (datetime.statement() would be its start, before waiting on them), so the events of
# one cluster, each written holding its primary's lock, are in commit order.
EVENT_TIME: LiteralString = "datetime.truncate('microsecond', datetime.realtime())"


def into_outbox(flag: LiteralString) -> LiteralString:
    """The event bound to `event` goes out to the webhooks too, when `flag` (whether they are
    configured) is true (graphdb.outbox)."""
    return "FOREACH (_ IN CASE WHEN " + flag + " THEN [1] ELSE [] END | SET event:Outbox)"


# A loser demoted into the winner: the MERGED entry, inside DEMOTE_AND_READ's loop over losers,
# with `winner` and `loser` bound and $merge.cause a graphdb.ledger.MergeCause. Its EVIDENCE is
# what the merge stands on: the request's Email and Phone nodes, or the contacts an operator
# named (graphdb.erasure reads it back).
MERGED_EVENT: LiteralString = (
    """
  CREATE (event:Event {
    id: randomUUID(),
    at: """
    + EVENT_TIME
    + """,
    kind: 'MERGED',
    requestId: $merge.cause.requestId,
    contactIds: [winner.id, loser.id],
    primaryBefore: loser.id,
    primaryAfter: winner.id,
    bridgeKind: $merge.cause.bridgeKind,
    bridgeHash: $merge.cause.bridgeHash
  })
  CREATE (event)-[:ABOUT]->(winner), (event)-[:ABOUT]->(loser)
  """
    + into_outbox("$merge.cause.outbox")
    + """
  WITH event
  CALL (event) {
    MATCH (email:Email {value: $merge.cause.email})
    CREATE (event)-[:EVIDENCE]->(email)
  }
  CALL (event) {
    MATCH (phone:Phone {value: $merge.cause.phone})
    CREATE (event)-[:EVIDENCE]->(phone)
  }
  CALL (event) {
    UNWIND $merge.cause.contactIds AS contactId
    MATCH (named:Contact {id: contactId})
    CREATE (event)-[:EVIDENCE]->(named)
  }
"""
)


def event_map(event: LiteralString) -> LiteralString:
    """The event bound to `event` as the reads return it: times as text (graphdb.records)."""
    return (
        event
        + """ {.id, .kind, .requestId, .contactIds, .primaryBefore, .primaryAfter, .bridgeKind,
         .bridgeHash, at: toString("""
        + event
        + """.at)}"""
    )


# The history of a contact's cluster: every event about any of its contacts, newest first,
# `first` of them after the event `after` (null: from the newest). Without locks: a merge
# committing meanwhile may or may not show yet. `found` says whether the contact and the cursor
# exist.
READ_HISTORY: LiteralString = (
    OPTIONS
    + """
OPTIONAL MATCH (member:Contact {id: $history.contactId})
WHERE member.deletedAt IS NULL
"""
    + primary_of("member", "primary")
    + """
CALL (primary) {
  OPTIONAL MATCH (cursor:Event {id: $history.after})
  RETURN cursor
}
CALL (primary, cursor) {
  WITH primary, cursor,
       """
    + MEMBERS
    + """ AS members
  UNWIND members AS contact
  MATCH (contact)<-[:ABOUT]-(event:Event)
  WITH DISTINCT event, cursor
  WHERE cursor IS NULL OR event.at < cursor.at OR (event.at = cursor.at AND event.id < cursor.id)
  WITH event ORDER BY event.at DESC, event.id DESC LIMIT $history.first
  RETURN collect("""
    + event_map("event")
    + """) AS events
}
RETURN member IS NOT NULL AS found,
       $history.after IS NULL OR cursor IS NOT NULL AS cursorFound,
       events
"""
)

# Why two contacts are linked: whether they share a cluster now, and the shortest chain of
# evidence between them: contacts and the values they carry (HAS_EMAIL, HAS_PHONE), and merges
# through their EVIDENCE. Every step as a map: a contact (with the event that made it), a value,
# or a merge's event. Neo4j's shortest path search runs from both ends at once, and evidence
# never leaves a cluster, so it explores at most the two clusters. A contact is linked to itself
# by no chain (the search refuses equal ends).
EXPLAIN_LINK: LiteralString = (
    OPTIONS
    + """
OPTIONAL MATCH (a:Contact {id: $explain.a})
WHERE a.deletedAt IS NULL
OPTIONAL MATCH (b:Contact {id: $explain.b})
WHERE b.deletedAt IS NULL
"""
    + primary_of("a", "primaryOfA")
    + primary_of("b", "primaryOfB")
    + """
OPTIONAL CALL (a, b) {
  WITH a, b
  WHERE a <> b
  MATCH path = shortestPath((a)-[:HAS_EMAIL|HAS_PHONE|EVIDENCE*]-(b))
  RETURN path
}
RETURN a IS NOT NULL AND b IS NOT NULL AS found,
       primaryOfA.id AS primaryOfA,
       primaryOfB.id AS primaryOfB,
       [step IN coalesce(nodes(path), []) |
         CASE
           WHEN step:Contact THEN {
             contactId: step.id,
             made: COLLECT {
               MATCH (step)<-[:ABOUT]-(event:Event)
               WHERE event.kind IN ['CREATED', 'LINKED']
               RETURN """
    + event_map("event")
    + """
             }[0]
           }
           WHEN step:Email THEN {email: step.value}
           WHEN step:Phone THEN {phone: step.value}
           ELSE {event: """
    + event_map("step")
    + """}
         END] AS steps
"""
)
