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
# (graphdb.requests.batch_params). One statement decides most rows of a batch at once;
# Neo4j's per-transaction and per-statement costs are then paid once per batch, not per request.
# Lists travel inside one map parameter: Neo4j caches a plan per size class of each list
# parameter (1, 2 to 10, 11 to 100, ...), and planning these statements costs 0.3 to 2 s of its
# CPU; behind a map every batch size shares one plan.


# Every transaction takes its locks in one global order, so that batches in this process, in other
# worker processes and in other replicas never wait on each other in a cycle:
# 1. the batch's Email nodes, values ascending ($batch.emails is sorted), then its Phone nodes;
# 2. the primaries of the clusters they belong to, ids ascending;
# 3. the contact id sequence, last, and only by a statement that creates contacts.
# MERGE on a uniqueness-constrained value serialises concurrent creators of the same value; the
# SET/REMOVE pair write-locks an existing node until commit (Neo4j has no explicit lock clause).
_LOCK_VALUES: LiteralString = lock_values("$batch", "MERGE")


# For each identifier of a row, whether it is a hub, ONE live contact that carries it, and that
# contact's primary. One contact is enough: all contacts sharing an email or phone are in one
# cluster (an invariant identify keeps), so the work is constant however big the cluster is. A
# primary has no outgoing LINKED_TO. A value already linked to $batch.maxPerIdentifier contacts
# links no further contact (the row finds no cluster through it): the count is the node's
# degree, which Neo4j keeps, so a hub costs no more to look at than any other value. The value
# is locked, so neither its degree nor its carriers can change; only the carrier's primary can
# (a merge or an erasure relinks it, holding that primary's lock), which the decision checks
# once the primaries are locked. (Degree counts soft-deleted contacts too: the service deletes
# none.)
def _find_via(node: LiteralString, edge: LiteralString, kind: LiteralString) -> LiteralString:
    return (
        """
  OPTIONAL CALL ("""
        + node
        + """) {
    WITH """
        + node
        + """ WHERE """
        + node
        + """ IS NOT NULL
    WITH """
        + node
        + """, COUNT { ("""
        + node
        + """)<-[:"""
        + edge
        + """]-() } >= $batch.maxPerIdentifier AS hub
    OPTIONAL MATCH ("""
        + node
        + """)<-[:"""
        + edge
        + """]-(member:Contact)
    WHERE NOT hub AND member.deletedAt IS NULL
    WITH hub, member LIMIT 1
    OPTIONAL MATCH (member)-[:LINKED_TO]->(linked:Contact)
    WITH hub, member, linked LIMIT 1
    RETURN hub AS """
        + kind
        + """Hub, member AS """
        + kind
        + """Member, coalesce(linked, member) AS via"""
        + kind.capitalize()
        + """
  }
"""
    )


# Every row's finds, as one list `finds`.
_FIND_ROWS: LiteralString = (
    """
CALL (emailNodes, phoneNodes) {
  UNWIND $batch.rows AS row
  WITH row, emailNodes[row.emailAt] AS email, phoneNodes[row.phoneAt] AS phone
"""
    + _find_via("email", "HAS_EMAIL", "email")
    + _find_via("phone", "HAS_PHONE", "phone")
    + """
  RETURN collect({row: row, email: email, phone: phone,
                  emailHub: coalesce(emailHub, false), emailMember: emailMember,
                  viaEmail: viaEmail, phoneHub: coalesce(phoneHub, false),
                  phoneMember: phoneMember, viaPhone: viaPhone}) AS finds
}
"""
)

# The primaries every row found, locked in ascending id order.
_LOCK_FOUND_PRIMARIES: LiteralString = """
CALL (finds) {
  UNWIND finds AS find
  UNWIND [found IN [find.viaEmail, find.viaPhone] WHERE found IS NOT NULL] AS primary
  WITH DISTINCT primary
  ORDER BY primary.id
  SET primary._lock = true
  REMOVE primary._lock
  RETURN collect(primary.id) AS lockedPrimaryIds
}
"""

_LOCK_GIVEN_PRIMARIES: LiteralString = lock_contacts("$batch.primaryIds")


# A primary found through a value still stands once locked: it has no outgoing LINKED_TO (no
# merge demoted it) and the contact carrying the value still links to it (no erasure split it
# away). Then its cluster is frozen until the transaction ends.
def _still_primary(via: LiteralString, member: LiteralString) -> LiteralString:
    return (
        "("
        + via
        + " IS NULL OR ("
        + via
        + ".id IN lockedPrimaryIds AND NOT EXISTS { ("
        + via
        + ")-[:LINKED_TO]->(:Contact) } AND ("
        + member
        + " = "
        + via
        + " OR EXISTS { ("
        + member
        + ")-[:LINKED_TO]->("
        + via
        + ") })))"
    )


# A row that touches at most one cluster whose primary is locked and still stands (so the
# cluster is frozen) is decided: a new value makes a contact; nothing new needs no write. Other
# rows (a merge, or a primary still to lock) are left to the caller. A row that finds no cluster
# starts one, even when none of its values is new: its values were blocked or hubs, and link
# nobody.
_DECIDE: LiteralString = (
    """
CALL (lockedPrimaryIds, finds) {
  UNWIND finds AS find
  WITH lockedPrimaryIds, find, find.row AS row, find.viaEmail AS viaEmail,
       find.viaPhone AS viaPhone, find.emailMember AS emailMember,
       find.phoneMember AS phoneMember
  WITH find, row, viaEmail, viaPhone, coalesce(viaEmail, viaPhone) AS found,
       """
    + _still_primary("viaEmail", "emailMember")
    + """
       AND """
    + _still_primary("viaPhone", "phoneMember")
    + """ AS held,
       (row.email IS NOT NULL AND NOT find.emailHub AND viaEmail IS NULL)
         OR (row.phone IS NOT NULL AND NOT find.phoneHub AND viaPhone IS NULL) AS bringsNew
  WITH find, found, bringsNew, held,
       found IS NULL
         OR (held AND (viaEmail IS NULL OR viaPhone IS NULL OR viaEmail = viaPhone)) AS decided
  RETURN collect(find {.*, found: found, held: held, decided: decided,
                       creates: decided AND (bringsNew OR found IS NULL)}) AS decisions
}
"""
)

# The contact ids, taken from the sequence ($batch.ids names it) by the statement that makes the
# contacts, as its last lock: a contact whose request started after another's was answered gets
# a larger id whatever process served each (the other's transaction had committed its ids), ids
# stay dense (one that does not commit takes none), and the lock is held only for the rest of
# the statement and the commit. The batch takes its ids at once, in row order. Their time is
# read after the lock, so ids and creation times grow together.
_TAKE_IDS: LiteralString = """
WITH lockedPrimaryIds, decisions, size([decision IN decisions WHERE decision.creates]) AS making
OPTIONAL CALL (making) {
  WITH making WHERE making > 0
  MERGE (sequence:ContactIdSequence {name: $batch.ids.sequence})
  ON CREATE SET sequence.next = 1
  SET sequence.next = sequence.next + making
  RETURN sequence.next - making AS firstId,
         datetime.truncate('microsecond', datetime.realtime()) AS madeAt
}
"""


# The new contact links through the value bound to `node` unless it is a hub. The value is flagged
# a hub (for Neo4j Browser and the checker) once it reaches the cap, or when a contact is refused
# a link through it (the cap may have been lowered since).
def _link_value(node: LiteralString, edge: LiteralString) -> LiteralString:
    return (
        """
    FOREACH (_ IN CASE WHEN """
        + node
        + """ IS NULL OR decision."""
        + node
        + """Hub THEN [] ELSE [1] END |
      CREATE (contact)-[:"""
        + edge
        + """]->("""
        + node
        + """))
    FOREACH (_ IN CASE WHEN """
        + node
        + """ IS NOT NULL
                            AND COUNT { ("""
        + node
        + """)<-[:"""
        + edge
        + """]-() } >= $batch.maxPerIdentifier
                       THEN [1] ELSE [] END |
      SET """
        + node
        + """.hub = true)"""
    )


# Each creating row's contact: a secondary must never look older than its primary, even if the
# clock steps back: then it takes the primary's time plus one microsecond. row.createdAt is null
# for the service's requests (they happen now) and a historical order's time for `identity
# import`. Clusters are read only after every row's write (the decisions are collected first),
# so a row reads its cluster with the contacts its batchmates added to it.
_CREATE_AND_READ: LiteralString = (
    """
CALL (decisions, firstId, madeAt) {
  UNWIND range(0, size(decisions) - 1) AS position
  WITH decisions[position] AS decision, madeAt,
       firstId + size([earlier IN decisions[..position] WHERE earlier.creates]) AS number
  CALL (decision, madeAt, number) {
    WITH decision, madeAt, number
    WHERE decision.creates
    WITH decision, number, decision.row AS row, decision.found AS primary,
         coalesce(decision.row.createdAt, madeAt) AS now
    WITH decision, number, row, primary,
         CASE WHEN primary IS NOT NULL AND primary.createdAt >= now
              THEN primary.createdAt + duration({microseconds: 1}) ELSE now END AS createdAt
    CREATE (contact:Contact {
      id: $batch.ids.base + $batch.ids.step * number,
      linkPrecedence: CASE WHEN primary IS NULL THEN 'primary' ELSE 'secondary' END,
      createdAt: createdAt,
      updatedAt: createdAt
    })
    // What the contact carries but does not link through says why: 'blocked' or 'hub'.
    SET contact.email = row.storedEmail, contact.phoneNumber = row.storedPhone,
        contact.emailAsSent = row.emailAsSent, contact.phoneNumberAsSent = row.phoneAsSent,
        contact.emailUnlinked = CASE WHEN decision.emailHub THEN 'hub' ELSE row.emailBlocked END,
        contact.phoneNumberUnlinked = CASE WHEN decision.phoneHub THEN 'hub'
                                           ELSE row.phoneBlocked END
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
      contactIds: [contact.id],
      primaryAfter: coalesce(primary.id, contact.id),
      bridgeKind: CASE WHEN primary IS NULL THEN null
                       WHEN decision.viaEmail IS NOT NULL THEN 'email' ELSE 'phone' END,
      bridgeHash: CASE WHEN primary IS NULL THEN null
                       WHEN decision.viaEmail IS NOT NULL THEN row.emailToken
                       ELSE row.phoneToken END
    })-[:ABOUT]->(contact)
    // Out to the webhooks too, when they are configured (graphdb.outbox).
    """
    + into_outbox("$batch.outbox")
    + """
    WITH decision, contact, decision.email AS email, decision.phone AS phone
    """
    + _link_value("email", "HAS_EMAIL")
    + _link_value("phone", "HAS_PHONE")
    + """
    RETURN collect(contact) AS made
  }
  WITH decision, made[0] AS created, decision.found AS found
  RETURN collect({
    index: decision.row.index,
    emailHub: decision.emailHub,
    phoneHub: decision.phoneHub,
    // A primary's age, for a merge to pick the oldest, as microseconds since the epoch: the
    // driver makes a costly object of every time it receives (a quarter of an import's CPU).
    // (epochMillis floors, so this is exact before 1970 too; epochSeconds would not be.)
    viaEmail: CASE WHEN decision.viaEmail IS NULL THEN null ELSE {
      id: decision.viaEmail.id,
      createdAt: decision.viaEmail.createdAt.epochMillis * 1000
                 + decision.viaEmail.createdAt.microsecond % 1000} END,
    viaPhone: CASE WHEN decision.viaPhone IS NULL THEN null ELSE {
      id: decision.viaPhone.id,
      createdAt: decision.viaPhone.createdAt.epochMillis * 1000
                 + decision.viaPhone.createdAt.microsecond % 1000} END,
    held: decision.held,
    created: created {.id, .linkPrecedence},
    primary: CASE WHEN decision.decided THEN coalesce(found, created) END
  }) AS made
}
UNWIND made AS decision
WITH lockedPrimaryIds, decision, decision.primary AS primary
RETURN decision.index AS index,
       lockedPrimaryIds,
       decision.viaEmail AS viaEmail,
       decision.viaPhone AS viaPhone,
       decision.emailHub AS emailHub,
       decision.phoneHub AS phoneHub,
       decision.held AS held,
       decision.created AS created,"""
    + CLUSTER_COLUMNS
)

_DECIDE_CREATE_AND_READ: LiteralString = _DECIDE + _TAKE_IDS + _CREATE_AND_READ

# Step one of a batch: lock every row's identifiers, find their clusters, lock those clusters'
# primaries, then decide, create and read each row that can be decided. One record per row.
IDENTIFY_BATCH: LiteralString = (
    OPTIONS + _LOCK_VALUES + _FIND_ROWS + _LOCK_FOUND_PRIMARIES + _DECIDE_CREATE_AND_READ
)  # fmt: skip

# For one row ($batch.rows holds just it) the batch left undecided: lock the primaries it found
# (the transaction may hold others already, and its values), find again, decide if it can.
LOCK_PRIMARIES_AND_READ: LiteralString = (
    OPTIONS + _LOCK_GIVEN_PRIMARIES + _LOCK_VALUES + _FIND_ROWS + _DECIDE_CREATE_AND_READ
)

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
