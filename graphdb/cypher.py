"""Every Cypher statement the service runs, as parameterised constants."""

from typing import LiteralString

# For each identifier, ONE live contact that carries it, and that contact's primary. One contact is
# enough: all contacts sharing an email or phone are in one cluster (an invariant identify keeps),
# so the work is constant however big the cluster is. A primary has no outgoing LINKED_TO.
# The index hint is needed: given LIMIT 1, the planner would rather scan Contact nodes until one
# matches, which PROFILE showed growing with the database (thousands of hits at 10k contacts).
_FIND_PRIMARIES: LiteralString = """
CALL () {
  OPTIONAL MATCH (email:Email {value: $email})<-[:HAS_EMAIL]-(member:Contact)
  USING INDEX SEEK email:Email(value)
  WHERE member.deletedAt IS NULL
  WITH member LIMIT 1
  OPTIONAL MATCH (member)-[:LINKED_TO]->(linked:Contact)
  WITH member, linked LIMIT 1
  RETURN coalesce(linked, member) AS viaEmail
}
CALL () {
  OPTIONAL MATCH (phone:Phone {value: $phone})<-[:HAS_PHONE]-(member:Contact)
  USING INDEX SEEK phone:Phone(value)
  WHERE member.deletedAt IS NULL
  WITH member LIMIT 1
  OPTIONAL MATCH (member)-[:LINKED_TO]->(linked:Contact)
  WITH member, linked LIMIT 1
  RETURN coalesce(linked, member) AS viaPhone
}
"""

# MERGE on a uniqueness-constrained value serialises concurrent creators of the same value; the
# SET/REMOVE pair write-locks an existing node until commit (Neo4j has no explicit lock clause).
# Emails are locked before phones in every transaction, so identifier locks never form a cycle.
_LOCK_IDENTIFIERS: LiteralString = """
CALL () {
  UNWIND [value IN [$email] WHERE value IS NOT NULL] AS value
  MERGE (email:Email {value: value})
  SET email._lock = true
  REMOVE email._lock
  RETURN count(email) AS lockedEmails
}
CALL () {
  UNWIND [value IN [$phone] WHERE value IS NOT NULL] AS value
  MERGE (phone:Phone {value: value})
  SET phone._lock = true
  REMOVE phone._lock
  RETURN count(phone) AS lockedPhones
}
"""

# Locks the primaries just found, in ascending id order. The subquery aggregates, so every lock
# is held before the primaries are read again below.
_LOCK_FOUND_PRIMARIES: LiteralString = """
CALL (viaEmail, viaPhone) {
  UNWIND [found IN [viaEmail, viaPhone] WHERE found IS NOT NULL] AS primary
  WITH DISTINCT primary
  ORDER BY primary.id
  SET primary._lock = true
  REMOVE primary._lock
  RETURN collect(primary.id) AS lockedPrimaryIds
}
WITH lockedPrimaryIds
"""

_LOCK_GIVEN_PRIMARIES: LiteralString = """
CALL () {
  UNWIND $primaryIds AS primaryId
  MATCH (primary:Contact {id: primaryId})
  SET primary._lock = true
  REMOVE primary._lock
  RETURN collect(primary.id) AS lockedPrimaryIds
}
"""

# A cluster is one hop from its primary: every secondary links straight to it.
# Times come back as ISO 8601 text: the driver turns a temporal value into a Python object of
# its own, which for a 10,000-contact cluster cost more than everything else in the request; text
# is parsed only if a GraphQL query asks for a time (graphdb.records).
_CLUSTER_COLUMNS: LiteralString = """
  primary {.id, .email, .phoneNumber, .linkPrecedence,
           createdAt: toString(primary.createdAt), updatedAt: toString(primary.updatedAt)}
    AS primary,
  COLLECT {
    MATCH (secondary:Contact)-[:LINKED_TO]->(primary)
    WHERE secondary.deletedAt IS NULL
    // Ordered by the stored times, before they become text (text would not sort as times do).
    WITH secondary ORDER BY secondary.createdAt, secondary.id
    RETURN secondary {.id, .email, .phoneNumber, .linkPrecedence,
                      createdAt: toString(secondary.createdAt),
                      updatedAt: toString(secondary.updatedAt)} AS secondary
  } AS secondaries
"""
_READ_CLUSTER: LiteralString = "RETURN" + _CLUSTER_COLUMNS

# After locking, when the request touches at most one cluster and that cluster's primary is
# locked (so the cluster is frozen), everything is decided here: a new value makes the contact in
# this same statement, which saves most requests a second round trip; nothing new reads the
# cluster, the answer. Otherwise (a merge, or a primary still to lock) the caller goes on.
# A secondary must never look older than its primary, even if the clock steps back: then it takes
# the primary's time plus one microsecond. $id is lent before the statement and given back unused.
# $createdAt is null for the service's requests (they happen now) and a historical order's time
# for `identity import`.
_CREATE_IF_NEW_AND_RETURN: LiteralString = (
    """
WITH lockedPrimaryIds, viaEmail, viaPhone, coalesce(viaEmail, viaPhone) AS found,
     ($email IS NOT NULL AND viaEmail IS NULL)
       OR ($phone IS NOT NULL AND viaPhone IS NULL) AS bringsNew
WITH lockedPrimaryIds, viaEmail, viaPhone, found, bringsNew,
     found IS NULL
       OR ((viaEmail IS NULL OR viaPhone IS NULL OR viaEmail = viaPhone)
           AND found.id IN lockedPrimaryIds) AS decided
CALL (found, bringsNew, decided) {
  UNWIND CASE WHEN decided AND bringsNew THEN [found] ELSE [] END AS primary
  WITH primary, coalesce($createdAt, datetime.truncate('microsecond', datetime.statement())) AS now
  WITH primary,
       CASE WHEN primary IS NOT NULL AND primary.createdAt >= now
            THEN primary.createdAt + duration({microseconds: 1}) ELSE now END AS createdAt
  CREATE (contact:Contact {
    id: $id,
    linkPrecedence: CASE WHEN primary IS NULL THEN 'primary' ELSE 'secondary' END,
    createdAt: createdAt,
    updatedAt: createdAt
  })
  SET contact.email = $email, contact.phoneNumber = $phone
  FOREACH (linked IN CASE WHEN primary IS NULL THEN [] ELSE [primary] END |
    CREATE (contact)-[:LINKED_TO]->(linked))
  WITH contact
  CALL (contact) {
    MATCH (email:Email {value: $email})
    CREATE (contact)-[:HAS_EMAIL]->(email)
  }
  CALL (contact) {
    MATCH (phone:Phone {value: $phone})
    CREATE (contact)-[:HAS_PHONE]->(phone)
  }
  RETURN collect(contact) AS made
}
WITH lockedPrimaryIds, viaEmail, viaPhone, made[0] AS created,
     CASE WHEN decided THEN coalesce(found, made[0]) END AS primary
RETURN lockedPrimaryIds,
       viaEmail {.id, .createdAt} AS viaEmail,
       viaPhone {.id, .createdAt} AS viaPhone,
       created {.id, .linkPrecedence} AS created,"""
    + _CLUSTER_COLUMNS
)

# Step one of identify: lock the request's identifiers, then the primaries of their clusters,
# then read those primaries again, since a merge may have demoted one while we waited.
LOCK_AND_READ: LiteralString = (
    _LOCK_IDENTIFIERS + _FIND_PRIMARIES + _LOCK_FOUND_PRIMARIES + _FIND_PRIMARIES
    + _CREATE_IF_NEW_AND_RETURN
)  # fmt: skip

# When that second read found a primary not locked yet: lock them all (ascending ids), read again.
LOCK_PRIMARIES_AND_READ: LiteralString = (
    _LOCK_GIVEN_PRIMARIES + _FIND_PRIMARIES + _CREATE_IF_NEW_AND_RETURN
)

# The losing primaries and all their secondaries link straight to the winner: no chains.
MERGE_CLUSTERS_AND_READ: LiteralString = (
    """
MATCH (winner:Contact {id: $winnerId})
UNWIND $loserIds AS loserId
MATCH (loser:Contact {id: loserId})
WITH winner, loser, datetime.truncate('microsecond', datetime.statement()) AS now
CALL (winner, loser, now) {
  MATCH (secondary:Contact)-[link:LINKED_TO]->(loser)
  DELETE link
  CREATE (secondary)-[:LINKED_TO]->(winner)
  SET secondary.updatedAt = now
}
CREATE (loser)-[:LINKED_TO]->(winner)
SET loser.linkPrecedence = 'secondary', loser.updatedAt = now
WITH DISTINCT winner AS primary
"""
    + _READ_CLUSTER
)

# Reads take no locks, so a merge committing meanwhile could tear one: `settled` and `memberId`
# let the caller see that and read again.
_PRIMARY_OF_MEMBER: LiteralString = (
    """
WITH member LIMIT 1
OPTIONAL MATCH (member)-[:LINKED_TO]->(linked:Contact)
WITH member, linked LIMIT 1
WITH member, coalesce(linked, member) AS primary
RETURN member.id AS memberId,
       NOT EXISTS { (primary)-[:LINKED_TO]->(:Contact) } AS settled,"""
    + _CLUSTER_COLUMNS
)

READ_CLUSTER_BY_ID: LiteralString = (
    """
MATCH (member:Contact {id: $id})
WHERE member.deletedAt IS NULL
"""
    + _PRIMARY_OF_MEMBER
)

READ_CLUSTER_BY_EMAIL: LiteralString = (
    """
MATCH (email:Email {value: $email})<-[:HAS_EMAIL]-(member:Contact)
USING INDEX SEEK email:Email(value)
WHERE member.deletedAt IS NULL
"""
    + _PRIMARY_OF_MEMBER
)

READ_CLUSTER_BY_PHONE: LiteralString = (
    """
MATCH (phone:Phone {value: $phone})<-[:HAS_PHONE]-(member:Contact)
USING INDEX SEEK phone:Phone(value)
WHERE member.deletedAt IS NULL
"""
    + _PRIMARY_OF_MEMBER
)

# Reserves a block of ids in one short transaction of its own. `SET n.x = n.x + k` takes the
# write lock before it reads, so concurrent reservations never overlap.
RESERVE_CONTACT_IDS: LiteralString = """
MERGE (sequence:ContactIdSequence {name: 'contact'})
ON CREATE SET sequence.next = 1
SET sequence.next = sequence.next + $size
RETURN sequence.next - $size AS first
"""

CONSTRAINTS: tuple[LiteralString, ...] = (
    "CREATE CONSTRAINT contact_id IF NOT EXISTS FOR (c:Contact) REQUIRE c.id IS UNIQUE",
    "CREATE CONSTRAINT email_value IF NOT EXISTS FOR (e:Email) REQUIRE e.value IS UNIQUE",
    "CREATE CONSTRAINT phone_value IF NOT EXISTS FOR (p:Phone) REQUIRE p.value IS UNIQUE",
    "CREATE CONSTRAINT contact_id_sequence_name IF NOT EXISTS "
    "FOR (s:ContactIdSequence) REQUIRE s.name IS UNIQUE",
)

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
