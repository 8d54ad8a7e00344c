"""`identity recanonicalize`: stored emails and phones rewritten in their canonical form under
the current rules, and the clusters of values that became equal joined."""

from typing import LiteralString

from graphdb.cypher.clusters import OPTIONS


# Values in pages, in value order, after $page.after.
def _list(label: LiteralString) -> LiteralString:
    return (
        """
MATCH (node:"""
        + label
        + """) WHERE node.value > $page.after
RETURN node.value AS value, coalesce(node.hub, false) AS hub
ORDER BY value LIMIT $page.size
"""
    )


# The group's nodes ($group.values, ascending, the new value among them) locked in the global
# order, the new one made if need be; then one contact of each cluster that carries any of them.
def _lock_and_find(label: LiteralString, edge: LiteralString) -> LiteralString:
    return (
        OPTIONS
        + """
CALL () {
  UNWIND $group.values AS value
  MERGE (node:"""
        + label
        + """ {value: value})
  SET node._lock = true
  REMOVE node._lock
  RETURN count(node) AS locked
}
UNWIND $group.values AS value
MATCH (node:"""
        + label
        + """ {value: value})<-[:"""
        + edge
        + """]-(contact:Contact)
OPTIONAL MATCH (contact)-[:LINKED_TO]->(linked:Contact)
WITH coalesce(linked, contact) AS primary, min(contact.id) AS contactId
RETURN contactId
"""
    )


# Every contact on an old value moves to the new one, keeping the text it was stored with as
# its as-sent text (for audit); the old nodes, now carrying nobody, go. A value past the hub cap
# is flagged, as identify would.
def _move(label: LiteralString, edge: LiteralString, prop: LiteralString) -> LiteralString:
    return (
        OPTIONS
        + """
MATCH (new:"""
        + label
        + """ {value: $move.new})
CALL (new) {
  UNWIND $move.old AS oldValue
  MATCH (old:"""
        + label
        + """ {value: oldValue})
  // A hub carries contacts that hold its text with no edge: it stays as it is.
  WHERE NOT coalesce(old.hub, false)
  CALL (old, new) {
    MATCH (contact:Contact)-[link:"""
        + edge
        + """]->(old)
    DELETE link
    CREATE (contact)-[:"""
        + edge
        + """]->(new)
    SET contact."""
        + prop
        + """AsSent = coalesce(contact."""
        + prop
        + """AsSent, contact."""
        + prop
        + """),
        contact."""
        + prop
        + """ = new.value,
        contact.updatedAt = datetime.truncate('microsecond', datetime.statement()),
        contact.recanonicalizedAt = datetime.truncate('microsecond', datetime.statement())
    RETURN count(contact) AS moved
  }
  // A merge that stood on the old value stands on the new one (graphdb.ledger).
  CALL (old, new) {
    MATCH (event:Event)-[evidence:EVIDENCE]->(old)
    DELETE evidence
    CREATE (event)-[:EVIDENCE]->(new)
  }
  // A held-back merge names the value as its request sent it: it follows the rewrite.
  CALL (old, new) {
    MATCH (conflict:Conflict)
    WHERE conflict."""
        + prop
        + """ = old.value
    SET conflict."""
        + prop
        + """ = new.value
  }
  DELETE old
  RETURN sum(moved) AS moved
}
FOREACH (_ IN CASE WHEN COUNT { (new)<-[:"""
        + edge
        + """]-() } >= $move.maxPerIdentifier
                   THEN [1] ELSE [] END | SET new.hub = true)
RETURN moved
"""
    )


LIST_EMAILS = _list("Email")
LIST_PHONES = _list("Phone")
LOCK_EMAILS_AND_FIND = _lock_and_find("Email", "HAS_EMAIL")
LOCK_PHONES_AND_FIND = _lock_and_find("Phone", "HAS_PHONE")
MOVE_EMAILS = _move("Email", "HAS_EMAIL", "email")
MOVE_PHONES = _move("Phone", "HAS_PHONE", "phoneNumber")
