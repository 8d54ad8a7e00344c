"""Every Cypher statement the service runs, as parameterised constants."""

from typing import LiteralString

# For each identifier, ONE live contact that carries it, and that contact's primary. One contact is
# enough: all contacts sharing an email or phone are in one cluster (an invariant identify keeps),
# so the work is constant however big the cluster is. A primary has no outgoing LINKED_TO.
_FIND_PRIMARIES: LiteralString = """
CALL () {
  OPTIONAL MATCH (:Email {value: $email})<-[:HAS_EMAIL]-(member:Contact)
  WHERE member.deletedAt IS NULL
  WITH member LIMIT 1
  OPTIONAL MATCH (member)-[:LINKED_TO]->(linked:Contact)
  RETURN coalesce(linked, member) AS viaEmail
}
CALL () {
  OPTIONAL MATCH (:Phone {value: $phone})<-[:HAS_PHONE]-(member:Contact)
  WHERE member.deletedAt IS NULL
  WITH member LIMIT 1
  OPTIONAL MATCH (member)-[:LINKED_TO]->(linked:Contact)
  RETURN coalesce(linked, member) AS viaPhone
}
RETURN viaEmail {.id, .createdAt} AS viaEmail, viaPhone {.id, .createdAt} AS viaPhone
"""

# MERGE on a uniqueness-constrained value serialises concurrent creators of the same value; the
# SET/REMOVE pair write-locks an existing node until commit (Neo4j has no explicit lock clause).
# Emails are locked before phones in every transaction, so identifier locks never form a cycle.
LOCK_IDENTIFIERS_AND_FIND_PRIMARIES: LiteralString = (
    """
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
    + _FIND_PRIMARIES
)

# Locks primaries in the order of $primaryIds (ascending ids), then reads the primaries again:
# one may have been demoted by a merge that committed while this transaction waited.
LOCK_PRIMARIES_AND_FIND_PRIMARIES: LiteralString = (
    """
CALL () {
  UNWIND $primaryIds AS primaryId
  MATCH (primary:Contact {id: primaryId})
  SET primary._lock = true
  REMOVE primary._lock
  RETURN count(primary) AS lockedPrimaries
}
"""
    + _FIND_PRIMARIES
)

# The losing primaries and all their secondaries link straight to the winner: no chains.
MERGE_CLUSTERS: LiteralString = """
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
"""

# A secondary must never look older than its primary, even if the clock steps back: then it
# takes the primary's time plus one microsecond.
CREATE_CONTACT: LiteralString = """
OPTIONAL MATCH (primary:Contact {id: $primaryId})
WITH primary, datetime.truncate('microsecond', datetime.statement()) AS now
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
"""

# A cluster is one hop from its primary: every secondary links straight to it.
_READ_CLUSTER: LiteralString = """
RETURN primary {.*} AS primary,
  COLLECT {
    MATCH (secondary:Contact)-[:LINKED_TO]->(primary)
    WHERE secondary.deletedAt IS NULL
    RETURN secondary {.*} ORDER BY secondary.createdAt, secondary.id
  } AS secondaries
"""

READ_CLUSTER_OF_PRIMARY: LiteralString = (
    """
MATCH (primary:Contact {id: $primaryId})
"""
    + _READ_CLUSTER
)

_PRIMARY_OF_MEMBER: LiteralString = """
WITH member LIMIT 1
OPTIONAL MATCH (member)-[:LINKED_TO]->(linked:Contact)
WITH coalesce(linked, member) AS primary
"""

READ_CLUSTER_BY_ID: LiteralString = (
    """
MATCH (member:Contact {id: $id})
WHERE member.deletedAt IS NULL
"""
    + _PRIMARY_OF_MEMBER
    + _READ_CLUSTER
)

READ_CLUSTER_BY_EMAIL: LiteralString = (
    """
MATCH (:Email {value: $email})<-[:HAS_EMAIL]-(member:Contact)
WHERE member.deletedAt IS NULL
"""
    + _PRIMARY_OF_MEMBER
    + _READ_CLUSTER
)

READ_CLUSTER_BY_PHONE: LiteralString = (
    """
MATCH (:Phone {value: $phone})<-[:HAS_PHONE]-(member:Contact)
WHERE member.deletedAt IS NULL
"""
    + _PRIMARY_OF_MEMBER
    + _READ_CLUSTER
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

AWAIT_INDEXES: LiteralString = "CALL db.awaitIndexes(60)"
