"""Held-back merges: listing the conflicts still open, and merging two clusters on purpose."""

from typing import LiteralString

from graphdb.cypher.clusters import OPTIONS

# The primaries $merge.lockIds are locked (ascending: the global order), then the primaries of
# $merge.contactIds read again: a merge may have demoted one while we waited.
LOCK_AND_FIND_PRIMARIES: LiteralString = (
    OPTIONS
    + """
CALL () {
  UNWIND $merge.lockIds AS lockId
  MATCH (locked:Contact {id: lockId})
  SET locked._lock = true
  REMOVE locked._lock
  RETURN count(locked) AS lockedCount
}
UNWIND $merge.contactIds AS contactId
MATCH (member:Contact {id: contactId})
WHERE member.deletedAt IS NULL
CALL (member) {
  OPTIONAL MATCH (member)-[:LINKED_TO]->(linked:Contact)
  RETURN linked LIMIT 1
}
WITH contactId, coalesce(linked, member) AS primary
RETURN contactId,
       primary.id AS primaryId,
       primary.createdAt.epochMillis * 1000 + primary.createdAt.microsecond % 1000 AS createdAt
"""
)

# Open conflicts, oldest first, after the one named $page.after: a conflict whose two sides have
# joined since (a later merge) is settled and not listed. Each side is named by the primary it
# has now.
LIST_CONFLICTS: LiteralString = (
    OPTIONS
    + """
OPTIONAL MATCH (cursor:Conflict {key: $page.after})
WITH cursor
MATCH (conflict:Conflict)
WHERE $page.after IS NULL
   OR conflict.firstAt > cursor.firstAt
   OR (conflict.firstAt = cursor.firstAt AND conflict.key > cursor.key)
CALL (conflict) {
  MATCH (side:Contact {id: conflict.emailSideId})
  OPTIONAL MATCH (side)-[:LINKED_TO]->(linked:Contact)
  RETURN coalesce(linked, side).id AS emailPrimaryId LIMIT 1
}
CALL (conflict) {
  MATCH (side:Contact {id: conflict.phoneSideId})
  OPTIONAL MATCH (side)-[:LINKED_TO]->(linked:Contact)
  RETURN coalesce(linked, side).id AS phonePrimaryId LIMIT 1
}
WITH conflict, emailPrimaryId, phonePrimaryId
WHERE emailPrimaryId <> phonePrimaryId
ORDER BY conflict.firstAt, conflict.key
LIMIT $page.first
RETURN conflict {.key, .requestId, .lastRequestId, .email, .phoneNumber, .requests,
                 firstAt: toString(conflict.firstAt), lastAt: toString(conflict.lastAt)}
         AS conflict,
       emailPrimaryId,
       phonePrimaryId
"""
)
