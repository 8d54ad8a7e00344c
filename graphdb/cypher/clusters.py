"""What every cluster-reading statement shares, and the lock-free cluster reads of `contact`."""

from typing import LiteralString

# Every statement the service runs often keeps its first plan (`replan=skip`): planning the
# identify statements costs Neo4j 0.3 to 2 s of CPU, and a growing database made it plan them
# again and again (each time its statistics had moved by three quarters), stalling the
# transactions behind it. The plans cannot get worse with the data: every lookup is a unique
# index seek (hinted where the planner hesitates) followed by a fixed number of hops from the
# nodes found; tests/integration/test_plans.py checks they are the same on an empty and a
# populated database.
OPTIONS: LiteralString = "CYPHER replan=skip\n"


def lock_contacts(ids: LiteralString) -> LiteralString:
    """A subquery that write-locks the contacts whose ids the list `ids` holds, in its order
    (callers sort it ascending: the global order), until the transaction ends."""
    return (
        """
CALL () {
  UNWIND """
        + ids
        + """ AS primaryId
  MATCH (primary:Contact {id: primaryId})
  SET primary._lock = true
  REMOVE primary._lock
  RETURN collect(primary.id) AS lockedPrimaryIds
}
"""
    )


def _lock_nodes(find: LiteralString, param: LiteralString, label: LiteralString) -> LiteralString:
    return (
        """
CALL () {
  UNWIND """
        + param
        + """ AS value
  """
        + find
        + """ (node:"""
        + label
        + """ {value: value})
  SET node._lock = true
  REMOVE node._lock
  WITH node ORDER BY node.value
  RETURN collect(node) AS """
        + label.lower()
        + """Nodes
}"""
    )


def lock_values(params: LiteralString, find: LiteralString) -> LiteralString:
    """Subqueries that write-lock the Email nodes whose values the list `<params>.emails` holds,
    then the Phone nodes of `<params>.phones` (callers sort them: the global order), until the
    transaction ends; the nodes are `emailNodes` and `phoneNodes`, in value order, so that a
    row reaches its own by position instead of seeking the index again. `find` is MERGE (a
    missing value is made: identify) or MATCH (erasure). Each subquery aggregates, so all its
    locks are held before the statement goes on."""
    return (
        _lock_nodes(find, params + ".emails", "Email")
        + _lock_nodes(find, params + ".phones", "Phone")
        + "\n"
    )


def primary_of(member: LiteralString, primary: LiteralString) -> LiteralString:
    """A subquery binding `primary` to the primary of the contact bound to `member` (itself, for
    a primary; null for null)."""
    return (
        """
CALL ("""
        + member
        + """) {
  OPTIONAL MATCH ("""
        + member
        + """)-[:LINKED_TO]->(linked:Contact)
  RETURN coalesce(linked, """
        + member
        + """) AS """
        + primary
        + """ LIMIT 1
}
"""
    )


# The contacts of the cluster whose primary is bound to `primary`, as a list: it, then every
# secondary.
MEMBERS: LiteralString = (
    "[primary] + COLLECT { MATCH (secondary:Contact)-[:LINKED_TO]->(primary) RETURN secondary }"
)


def contacts_of(ids: LiteralString) -> LiteralString:
    """The contacts of the clusters whose primaries' ids the list `ids` holds, as `contacts`:
    each primary's degree, which Neo4j keeps, so it costs the same for any size."""
    return (
        """
UNWIND """
        + ids
        + """ AS primaryId
MATCH (primary:Contact {id: primaryId})
RETURN sum(1 + COUNT { (primary)<-[:LINKED_TO]-() }) AS contacts
"""
    )


# A cluster is one hop from its primary: every secondary links straight to it. The primary comes
# whole; a secondary as [id, email, phoneNumber], what the cluster's lists and ids need: a page of
# whole contacts is read apart (READ_CONTACTS), so an answer never costs more than its lists.
# Times come back as ISO 8601 text: the driver turns a temporal value into a Python object of
# its own, which for a 10,000-contact cluster cost more than everything else in the request; text
# is parsed only if a GraphQL query asks for a time (graphdb.records).
CLUSTER_COLUMNS: LiteralString = """
  primary {.id, .email, .phoneNumber, .linkPrecedence, .emailAsSent, .phoneNumberAsSent,
           .emailUnlinked, .phoneNumberUnlinked,
           createdAt: toString(primary.createdAt), updatedAt: toString(primary.updatedAt)}
    AS primary,
  COLLECT {
    MATCH (secondary:Contact)-[:LINKED_TO]->(primary)
    WHERE secondary.deletedAt IS NULL
    WITH secondary ORDER BY secondary.createdAt, secondary.id
    RETURN [secondary.id, secondary.email, secondary.phoneNumber] AS secondary
  } AS secondaries
"""

# Whole contacts, for a page of a cluster's `contacts`.
READ_CONTACTS: LiteralString = (
    OPTIONS
    + """
UNWIND $page.ids AS contactId
MATCH (contact:Contact {id: contactId})
WHERE contact.deletedAt IS NULL
RETURN contact {.id, .email, .phoneNumber, .linkPrecedence, .emailAsSent, .phoneNumberAsSent,
                .emailUnlinked, .phoneNumberUnlinked, createdAt: toString(contact.createdAt),
                updatedAt: toString(contact.updatedAt),
                linkedId: COLLECT { MATCH (contact)-[:LINKED_TO]->(linked) RETURN linked.id }[0]}
         AS contact
"""
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
    + CLUSTER_COLUMNS
)

READ_CLUSTER_BY_ID: LiteralString = (
    OPTIONS
    + """
MATCH (member:Contact {id: $id})
WHERE member.deletedAt IS NULL
"""
    + _PRIMARY_OF_MEMBER
)

READ_CLUSTER_BY_EMAIL: LiteralString = (
    OPTIONS
    + """
MATCH (email:Email {value: $email})<-[:HAS_EMAIL]-(member:Contact)
USING INDEX SEEK email:Email(value)
WHERE member.deletedAt IS NULL
"""
    + _PRIMARY_OF_MEMBER
)

READ_CLUSTER_BY_PHONE: LiteralString = (
    OPTIONS
    + """
MATCH (phone:Phone {value: $phone})<-[:HAS_PHONE]-(member:Contact)
USING INDEX SEEK phone:Phone(value)
WHERE member.deletedAt IS NULL
"""
    + _PRIMARY_OF_MEMBER
)
