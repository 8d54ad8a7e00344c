"""Held-back merges: listing the conflicts still open, and merging two clusters on purpose."""

from typing import LiteralString

from graphdb.cypher.clusters import OPTIONS, lock_contacts

# The primaries $merge.lockIds are locked (ascending: the global order), then the primaries of
# $merge.contactIds read again: a merge may have demoted one while we waited.
LOCK_AND_FIND_PRIMARIES: LiteralString = (
    OPTIONS
    + lock_contacts("$merge.lockIds")
    + """
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

# Open conflicts in id order (the id is "low:high" of the primaries it was recorded between),
# after the id $page.after: a cursor that holds on even when that conflict is settled meanwhile.
# A conflict whose two sides have joined since (a later merge) is settled and not listed; each
# side is named by the primary it has now, and a pair of clusters is listed once (records made
# before one side was merged into a third cluster name the same pair).
LIST_CONFLICTS: LiteralString = (
    OPTIONS
    + """
MATCH (conflict:Conflict)
WHERE $page.after IS NULL OR conflict.key > $page.after
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
ORDER BY conflict.key
WITH emailPrimaryId, phonePrimaryId, collect(conflict)[0] AS conflict
ORDER BY conflict.key
LIMIT $page.first
RETURN conflict {.key, .requestId, .lastRequestId, .email, .phoneNumber, .requests,
                 firstAt: toString(conflict.firstAt), lastAt: toString(conflict.lastAt)}
         AS conflict,
       emailPrimaryId,
       phonePrimaryId
"""
)
