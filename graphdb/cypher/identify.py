"""The identify statements: a batch locked, decided and read in one statement, and what follows
for the rows it leaves undecided."""

from typing import LiteralString

from graphdb.cypher.clusters import (
    CLUSTER_COLUMNS,
    OPTIONS,
    contacts_of,
    lock_contacts,
    lock_values,
)
from graphdb.cypher.ledger import EVENT_TIME, MERGED_EVENT, into_outbox

# Identify runs over a batch: `$batch.rows` holds requests whose emails and phones are all
# distinct (graphdb.batcher never puts two requests sharing one in a batch), each row a map
# {index, email, phone, id, createdAt}. One statement decides most rows of a batch at once;
# Neo4j's per-transaction and per-statement costs are then paid once per batch, not per request.
# Lists travel inside one map parameter: Neo4j caches a plan per size class of each list
# parameter (1, 2 to 10, 11 to 100, ...), and planning these statements costs 0.3 to 2 s of its
# CPU; behind a map every batch size shares one plan.

# Every transaction takes its locks in one global order, so that batches in this process, in other
# worker processes and in other replicas never wait on each other in a cycle:
# 1. the batch's Email nodes, values ascending ($batch.emails is sorted), then its Phone nodes;
# 2. the primaries of the clusters they belong to, ids ascending.
# MERGE on a uniqueness-constrained value serialises concurrent creators of the same value; the
# SET/REMOVE pair write-locks an existing node until commit (Neo4j has no explicit lock clause).
_LOCK_IDENTIFIERS: LiteralString = lock_values("$batch", "MERGE")


# For each identifier of `row`, ONE live contact that carries it, and that contact's primary. One
# contact is enough: all contacts sharing an email or phone are in one cluster (an invariant
# identify keeps), so the work is constant however big the cluster is. A primary has no outgoing
# LINKED_TO. The index hint is needed: given LIMIT 1, the planner would rather scan Contact nodes
# until one matches, which PROFILE showed growing with the database.
def _primary_via(label: LiteralString, edge: LiteralString, kind: LiteralString) -> LiteralString:
    return (
        """
  CALL (row) {
    OPTIONAL MATCH (value:"""
        + label
        + """ {value: row."""
        + kind
        + """})<-[:"""
        + edge
        + """]-(member:Contact)
    USING INDEX SEEK value:"""
        + label
        + """(value)
    WHERE member.deletedAt IS NULL
    WITH member LIMIT 1
    OPTIONAL MATCH (member)-[:LINKED_TO]->(linked:Contact)
    WITH member, linked LIMIT 1
    RETURN coalesce(linked, member) AS via"""
        + kind.capitalize()
        + """
  }
"""
    )


# The same, knowing hubs: a value already linked to $batch.maxPerIdentifier contacts links no
# further contact (the row finds no cluster through it). The count is the node's degree, which
# Neo4j keeps, so a hub costs no more to look at than any other value; the identifier is locked,
# so it cannot move. (Degree counts soft-deleted contacts too: the service deletes none.)
def _primary_or_hub_via(
    label: LiteralString, edge: LiteralString, kind: LiteralString
) -> LiteralString:
    return (
        """
  CALL (row) {
    OPTIONAL MATCH (value:"""
        + label
        + """ {value: row."""
        + kind
        + """})
    USING INDEX SEEK value:"""
        + label
        + """(value)
    WITH value,
         coalesce(COUNT { (value)<-[:"""
        + edge
        + """]-() } >= $batch.maxPerIdentifier, false) AS hub
    OPTIONAL MATCH (value)<-[:"""
        + edge
        + """]-(member:Contact)
    WHERE NOT hub AND member.deletedAt IS NULL
    WITH hub, member LIMIT 1
    OPTIONAL MATCH (member)-[:LINKED_TO]->(linked:Contact)
    WITH hub, member, linked LIMIT 1
    RETURN coalesce(linked, member) AS via"""
        + kind.capitalize()
        + """, hub AS """
        + kind
        + """Hub
  }
"""
    )


# Locking needs only the primaries: one found through a hub is locked for nothing, harmlessly.
_FIND_PRIMARIES: LiteralString = _primary_via("Email", "HAS_EMAIL", "email") + _primary_via(
    "Phone", "HAS_PHONE", "phone"
)
_FIND_PRIMARIES_AND_HUBS: LiteralString = _primary_or_hub_via(
    "Email", "HAS_EMAIL", "email"
) + _primary_or_hub_via("Phone", "HAS_PHONE", "phone")

# The primaries every row found, locked in ascending id order.
_LOCK_FOUND_PRIMARIES: LiteralString = (
    """
CALL () {
  UNWIND $batch.rows AS row
"""
    + _FIND_PRIMARIES
    + """
  UNWIND [found IN [viaEmail, viaPhone] WHERE found IS NOT NULL] AS primary
  WITH DISTINCT primary
  ORDER BY primary.id
  SET primary._lock = true
  REMOVE primary._lock
  RETURN collect(primary.id) AS lockedPrimaryIds
}
"""
)

_LOCK_GIVEN_PRIMARIES: LiteralString = lock_contacts("$batch.primaryIds")

# After locking, the primaries are read again, since a merge may have demoted one while we
# waited. A row that touches at most one cluster whose primary is locked (so the cluster is
# frozen) is decided here: a new value makes the contact in this same statement; nothing new
# needs no write. Other rows (a merge, or a primary still to lock) are left to the caller.
# A secondary must never look older than its primary, even if the clock steps back: then it takes
# the primary's time plus one microsecond. row.id is lent before the statement and given back
# unused. row.createdAt is null for the service's requests (they happen now) and a historical
# order's time for `identity import`.
# Clusters are read only after every row's write (the decisions are collected first), so a row
# reads its cluster with the contacts its batchmates added to it.
_DECIDE_CREATE_AND_READ: LiteralString = (
    """
CALL (lockedPrimaryIds) {
  UNWIND $batch.rows AS row
"""
    + _FIND_PRIMARIES_AND_HUBS
    + """
  WITH lockedPrimaryIds, row, viaEmail, emailHub, viaPhone, phoneHub,
       coalesce(viaEmail, viaPhone) AS found,
       (row.email IS NOT NULL AND NOT emailHub AND viaEmail IS NULL)
         OR (row.phone IS NOT NULL AND NOT phoneHub AND viaPhone IS NULL) AS bringsNew
  WITH row, viaEmail, emailHub, viaPhone, phoneHub, found, bringsNew,
       found IS NULL
         OR ((viaEmail IS NULL OR viaPhone IS NULL OR viaEmail = viaPhone)
             AND found.id IN lockedPrimaryIds) AS decided
  // A row that finds no cluster starts one, even when none of its values is new: its values
  // were blocked or hubs, and link nobody.
  CALL (row, found, viaEmail, bringsNew, decided, emailHub, phoneHub) {
    UNWIND CASE WHEN decided AND (bringsNew OR found IS NULL) THEN [found] ELSE [] END AS primary
    WITH row, primary,
         coalesce(row.createdAt, datetime.truncate('microsecond', datetime.statement())) AS now
    WITH row, primary,
         CASE WHEN primary IS NOT NULL AND primary.createdAt >= now
              THEN primary.createdAt + duration({microseconds: 1}) ELSE now END AS createdAt
    CREATE (contact:Contact {
      id: row.id,
      linkPrecedence: CASE WHEN primary IS NULL THEN 'primary' ELSE 'secondary' END,
      createdAt: createdAt,
      updatedAt: createdAt
    })
    // What the contact carries but does not link through says why: 'blocked' or 'hub'.
    SET contact.email = row.storedEmail, contact.phoneNumber = row.storedPhone,
        contact.emailAsSent = row.emailAsSent, contact.phoneNumberAsSent = row.phoneAsSent,
        contact.emailUnlinked = CASE WHEN emailHub THEN 'hub' ELSE row.emailBlocked END,
        contact.phoneNumberUnlinked = CASE WHEN phoneHub THEN 'hub' ELSE row.phoneBlocked END
    // Such a contact is found by its values only through the label's indexes (erasure).
    FOREACH (_ IN CASE WHEN contact.emailUnlinked IS NULL AND contact.phoneNumberUnlinked IS NULL
                       THEN [] ELSE [1] END |
      SET contact:Unlinked)
    FOREACH (linked IN CASE WHEN primary IS NULL THEN [] ELSE [primary] END |
      CREATE (contact)-[:LINKED_TO]->(linked))
    // The ledger's entry, in this transaction (graphdb.ledger): a new primary, or a secondary
    // joined through the value that found its cluster.
    CREATE (event:Event {
      id: randomUUID(),
      at: """
    + EVENT_TIME
    + """,
      kind: CASE WHEN primary IS NULL THEN 'CREATED' ELSE 'LINKED' END,
      requestId: row.requestId,
      contactIds: [row.id],
      primaryAfter: coalesce(primary.id, row.id),
      bridgeKind: CASE WHEN primary IS NULL THEN null
                       WHEN viaEmail IS NOT NULL THEN 'email' ELSE 'phone' END,
      bridgeHash: CASE WHEN primary IS NULL THEN null
                       WHEN viaEmail IS NOT NULL THEN row.emailToken ELSE row.phoneToken END
    })-[:ABOUT]->(contact)
    // Out to the webhooks too, when they are configured (graphdb.outbox).
    """
    + into_outbox("$batch.outbox")
    + """
    WITH row, contact
    // The value is flagged a hub (for Neo4j Browser and the checker) once it reaches the cap,
    // or when a contact is refused a link through it (the cap may have been lowered since).
    CALL (row, contact, emailHub) {
      MATCH (email:Email {value: row.email})
      FOREACH (_ IN CASE WHEN emailHub THEN [] ELSE [1] END |
        CREATE (contact)-[:HAS_EMAIL]->(email))
      WITH email
      WHERE COUNT { (email)<-[:HAS_EMAIL]-() } >= $batch.maxPerIdentifier
      SET email.hub = true
    }
    CALL (row, contact, phoneHub) {
      MATCH (phone:Phone {value: row.phone})
      FOREACH (_ IN CASE WHEN phoneHub THEN [] ELSE [1] END |
        CREATE (contact)-[:HAS_PHONE]->(phone))
      WITH phone
      WHERE COUNT { (phone)<-[:HAS_PHONE]-() } >= $batch.maxPerIdentifier
      SET phone.hub = true
    }
    RETURN collect(contact) AS made
  }
  WITH row, viaEmail, emailHub, viaPhone, phoneHub, found, decided, made[0] AS created
  RETURN collect({
    index: row.index,
    emailHub: emailHub,
    phoneHub: phoneHub,
    // A primary's age, for a merge to pick the oldest, as microseconds since the epoch: the
    // driver makes a costly object of every time it receives (a quarter of an import's CPU).
    // (epochMillis floors, so this is exact before 1970 too; epochSeconds would not be.)
    viaEmail: viaEmail {.id,
                        createdAt: viaEmail.createdAt.epochMillis * 1000
                                   + viaEmail.createdAt.microsecond % 1000},
    viaPhone: viaPhone {.id,
                        createdAt: viaPhone.createdAt.epochMillis * 1000
                                   + viaPhone.createdAt.microsecond % 1000},
    created: created {.id, .linkPrecedence},
    primary: CASE WHEN decided THEN coalesce(found, created) END
  }) AS decisions
}
UNWIND decisions AS decision
WITH lockedPrimaryIds, decision, decision.primary AS primary
RETURN decision.index AS index,
       lockedPrimaryIds,
       decision.viaEmail AS viaEmail,
       decision.viaPhone AS viaPhone,
       decision.emailHub AS emailHub,
       decision.phoneHub AS phoneHub,
       decision.created AS created,"""
    + CLUSTER_COLUMNS
)

# Step one of a batch: lock every row's identifiers, then the primaries of their clusters, then
# decide each row that can be decided. One record per row.
IDENTIFY_BATCH: LiteralString = (
    OPTIONS + _LOCK_IDENTIFIERS + _LOCK_FOUND_PRIMARIES + _DECIDE_CREATE_AND_READ
)  # fmt: skip

# For one row ($batch.rows holds just it) the batch left undecided: lock the primaries it found (the
# transaction may hold others already), read again, decide if it can.
LOCK_PRIMARIES_AND_READ: LiteralString = OPTIONS + _LOCK_GIVEN_PRIMARIES + _DECIDE_CREATE_AND_READ

# How many contacts a merge of these clusters would make.
CLUSTER_SIZES: LiteralString = OPTIONS + contacts_of("$sizes.primaryIds")

# Up to $relink.chunk secondaries of the loser link straight to the winner; the caller repeats it
# until fewer come back, so no statement holds a whole large cluster in memory at once. First,
# the clusters of $relink.sizeOf are counted (each primary's degree, kept by Neo4j: constant
# time): past $relink.cap nothing moves, and the caller holds the merge back.
RELINK_SECONDARIES: LiteralString = (
    OPTIONS
    + """
MATCH (winner:Contact {id: $relink.winnerId})
MATCH (loser:Contact {id: $relink.loserId})
CALL () {"""
    + contacts_of("$relink.sizeOf")
    + """}
CALL (winner, loser, contacts) {
  WITH winner, loser
  WHERE contacts <= $relink.cap
  MATCH (secondary:Contact)-[link:LINKED_TO]->(loser)
  WITH winner, secondary, link LIMIT $relink.chunk
  DELETE link
  CREATE (secondary)-[:LINKED_TO]->(winner)
  SET secondary.updatedAt = datetime.truncate('microsecond', datetime.statement())
  RETURN count(secondary) AS moved
}
RETURN contacts, moved
"""
)

# Once their secondaries have moved, the losing primaries link to the winner: no chains. A
# conflict held back between these clusters is settled by the merge.
DEMOTE_AND_READ: LiteralString = (
    OPTIONS
    + """
MATCH (winner:Contact {id: $merge.winnerId})
CALL (winner) {
  UNWIND $merge.loserIds AS loserId
  MATCH (loser:Contact {id: loserId})
  CREATE (loser)-[:LINKED_TO]->(winner)
  SET loser.linkPrecedence = 'secondary',
      loser.updatedAt = datetime.truncate('microsecond', datetime.statement())
"""
    + MERGED_EVENT
    + """
}
CALL () {
  UNWIND $merge.conflictKeys AS key
  MATCH (conflict:Conflict {key: key})
  DELETE conflict
}
WITH winner AS primary
RETURN"""
    + CLUSTER_COLUMNS
)

# A merge past the cluster cap is held back: nothing merges, the conflict is recorded (once per
# pair of clusters; a repeat counts), and the request is answered with its email's cluster.
HOLD_BACK_AND_READ: LiteralString = (
    OPTIONS
    + """
MATCH (primary:Contact {id: $conflict.emailSideId})
MERGE (conflict:Conflict {key: $conflict.key})
ON CREATE SET conflict.firstAt = datetime.truncate('microsecond', datetime.statement()),
              conflict.requestId = $conflict.requestId,
              conflict.emailSideId = $conflict.emailSideId,
              conflict.phoneSideId = $conflict.phoneSideId,
              conflict.email = $conflict.email,
              conflict.phoneNumber = $conflict.phone,
              conflict.requests = 0
SET conflict.lastAt = datetime.truncate('microsecond', datetime.statement()),
    conflict.lastRequestId = $conflict.requestId,
    conflict.requests = conflict.requests + 1
WITH primary
RETURN"""
    + CLUSTER_COLUMNS
)

# The clusters of contacts answered earlier in a transaction that later changed them, read again
# at its end (every lock is held, so nothing is torn). A merged primary now links to the winner.
READ_CLUSTERS_OF_CONTACTS: LiteralString = (
    OPTIONS
    + """
UNWIND $read.ids AS contactId
MATCH (member:Contact {id: contactId})
CALL (member) {
  OPTIONAL MATCH (member)-[:LINKED_TO]->(linked:Contact)
  RETURN linked LIMIT 1
}
WITH contactId, coalesce(linked, member) AS primary
RETURN contactId,"""
    + CLUSTER_COLUMNS
)
