"""The statements of erasure (graphdb.erasure): values removed everywhere, clusters recomputed
from the evidence that remains."""

from typing import LiteralString

from graphdb.cypher.clusters import MEMBERS, OPTIONS, lock_values
from graphdb.cypher.ledger import EVENT_TIME, into_outbox

_NOW: LiteralString = "datetime.truncate('microsecond', datetime.statement())"


def _carriers(
    label: LiteralString, edge: LiteralString, kind: LiteralString, prop: LiteralString
) -> LiteralString:
    """A subquery collecting, as `<kind>Carriers`, each live contact carrying one of
    $erase.<kind>s: through its edge, or with the value unlinked."""
    return (
        """
CALL () {
  UNWIND $erase."""
        + kind
        + """s AS value
  CALL (value) {
    MATCH (:"""
        + label
        + """ {value: value})<-[:"""
        + edge
        + """]-(carrier:Contact)
    RETURN carrier
    UNION
    MATCH (carrier:Unlinked {"""
        + prop
        + """: value})
    RETURN carrier
  }
  WITH value, carrier
  WHERE carrier.deletedAt IS NULL
  RETURN collect({kind: '"""
        + kind
        + """', value: value, carrierId: carrier.id}) AS """
        + kind
        + """Carriers
}
"""
    )


# The erased values' nodes locked (emails, then phones, values ascending: identify's order), and
# every live contact that carries one: through its edge, or as a value that links nobody
# (blocked, or past a hub's cap: such contacts carry the label Unlinked, indexed by value).
LOCK_VALUES_AND_FIND_CARRIERS: LiteralString = (
    OPTIONS
    + lock_values("$erase", "MATCH")
    + _carriers("Email", "HAS_EMAIL", "email", "email")
    + _carriers("Phone", "HAS_PHONE", "phone", "phoneNumber")
    + """RETURN emailCarriers + phoneCarriers AS carriers
"""
)

# Every contact of the clusters of $read.primaryIds (locked), with its evidence: the values it
# links through, and the merges standing on them or on it, with all each stands on
# (graphdb.ledger). Values as
# "email:<value>", "phone:<value>", contacts as "contact:<id>". A contact no CREATED or LINKED
# event is about is older than the ledger: its link to the primary is all the evidence there is.
READ_EVIDENCE: LiteralString = (
    OPTIONS
    + """
UNWIND $read.primaryIds AS primaryId
MATCH (primary:Contact {id: primaryId})
UNWIND """
    + MEMBERS
    + """ AS member
WITH primaryId, member
WHERE member.deletedAt IS NULL
RETURN primaryId,
       member.id AS id,
       member.createdAt.epochMillis * 1000 + member.createdAt.microsecond % 1000 AS createdAt,
       COLLECT { MATCH (member)-[:HAS_EMAIL]->(email:Email) RETURN 'email:' + email.value }
         + COLLECT { MATCH (member)-[:HAS_PHONE]->(phone:Phone) RETURN 'phone:' + phone.value }
         AS values,
       // Every merge standing on this member's values, or on the member itself (an operator's):
       // reached through its evidence, whoever its winner and loser were, even if erased since.
       [event IN COLLECT {
          MATCH (member)-[:HAS_EMAIL|HAS_PHONE]->()<-[:EVIDENCE]-(event:Event)
          RETURN event
          UNION
          MATCH (member)<-[:EVIDENCE]-(event:Event)
          RETURN event
        } |
        COLLECT {
          MATCH (event)-[:EVIDENCE]->(node)
          RETURN CASE WHEN node:Email THEN 'email:' + node.value
                      WHEN node:Phone THEN 'phone:' + node.value
                      WHEN node.deletedAt IS NULL THEN 'contact:' + toString(node.id)
                 END
        }] AS merges,
       NOT EXISTS { (member)<-[:ABOUT]-(:Event {kind: 'CREATED'}) }
         AND NOT EXISTS { (member)<-[:ABOUT]-(:Event {kind: 'LINKED'}) } AS beforeLedger
"""
)

# The values removed from every contact that carries them (with their as-sent texts and unlinked
# marks), their hashes from the events they were the bridge of, their nodes deleted (and with
# them the merges' EVIDENCE edges to them), conflicts that name them and idempotent answers that
# show them deleted; an ERASED event per value, about its carriers. $apply.contactId's contact,
# if any, is erased whole: kept as a tombstone, for the ledger's ids, out of every cluster.
ERASE_VALUES: LiteralString = (
    OPTIONS
    + """
CALL () {
  UNWIND $apply.values AS erased
  CALL (erased) {
    UNWIND erased.carrierIds AS carrierId
    MATCH (carrier:Contact {id: carrierId})
    FOREACH (_ IN CASE WHEN erased.kind = 'email' THEN [1] ELSE [] END |
      REMOVE carrier.email, carrier.emailAsSent, carrier.emailUnlinked)
    FOREACH (_ IN CASE WHEN erased.kind = 'phone' THEN [1] ELSE [] END |
      REMOVE carrier.phoneNumber, carrier.phoneNumberAsSent, carrier.phoneNumberUnlinked)
    SET carrier.updatedAt = """
    + _NOW
    + """,
        carrier.valueErasedAt = """
    + _NOW
    + """
    FOREACH (_ IN CASE WHEN carrier.emailUnlinked IS NULL AND carrier.phoneNumberUnlinked IS NULL
                       THEN [1] ELSE [] END |
      REMOVE carrier:Unlinked)
  }
  // The events this value was the bridge of keep the kind of value, never its hash: a merge's
  // through its EVIDENCE edge to the value (deleted next), a contact's joining through the
  // contact, whose value of that kind it is.
  CALL (erased) {
    OPTIONAL MATCH (:Email {value: erased.value})<-[:EVIDENCE]-(merge:Event {bridgeKind: 'email'})
    WHERE erased.kind = 'email'
    OPTIONAL MATCH (:Phone {value: erased.value})<-[:EVIDENCE]-(byPhone:Event {bridgeKind: 'phone'})
    WHERE erased.kind = 'phone'
    WITH collect(merge) + collect(byPhone) AS merges
    FOREACH (event IN merges | REMOVE event.bridgeHash)
  }
  CALL (erased) {
    UNWIND erased.carrierIds AS carrierId
    MATCH (:Contact {id: carrierId})<-[:ABOUT]-(joined:Event {kind: 'LINKED'})
    WHERE joined.bridgeKind = erased.kind
    REMOVE joined.bridgeHash
  }
  CALL (erased) {
    OPTIONAL MATCH (email:Email {value: erased.value})
    WHERE erased.kind = 'email'
    OPTIONAL MATCH (phone:Phone {value: erased.value})
    WHERE erased.kind = 'phone'
    DETACH DELETE email, phone
  }
  CALL (erased) {
    MATCH (conflict:Conflict)
    WHERE (erased.kind = 'email' AND conflict.email = erased.value)
       OR (erased.kind = 'phone' AND conflict.phoneNumber = erased.value)
    DELETE conflict
  }
  CREATE (event:Event {
    id: randomUUID(),
    at: """
    + EVENT_TIME
    + """,
    kind: 'ERASED',
    requestId: $apply.requestId,
    contactIds: erased.carrierIds,
    primaryBefore: erased.primaryBefore,
    primaryAfter: erased.primaryAfter,
    // What a receiver purges: this kind of value, of these contacts; never the value's hash.
    bridgeKind: erased.kind
  })
  """
    + into_outbox("$apply.outbox")
    + """
  WITH event, erased
  UNWIND erased.carrierIds AS carrierId
  MATCH (carrier:Contact {id: carrierId})
  CREATE (event)-[:ABOUT]->(carrier)
}
CALL () {
  UNWIND $apply.memberIds AS memberId
  MATCH (member:Contact {id: memberId})<-[:ANSWERED]-(key:IdempotencyKey)
  DETACH DELETE key
}
CALL () {
  MATCH (erased:Contact {id: $apply.contactId})
  OPTIONAL MATCH (erased)-[link:LINKED_TO]->()
  DELETE link
  // Whatever it carried goes, found as a carrier or not (a value marked before the label).
  REMOVE erased.email, erased.phoneNumber, erased.emailAsSent, erased.phoneNumberAsSent,
         erased.emailUnlinked, erased.phoneNumberUnlinked
  SET erased.deletedAt = """
    + _NOW
    + """, erased.erasedAt = """
    + _NOW
    + """, erased.linkPrecedence = 'primary'
  REMOVE erased:Unlinked
}
"""
)

# Each contact whose primary changed links to its new one (a new primary links to none), and
# each part of a cluster that erasure split or whose primary changed gets a SPLIT event, about
# its primary.
RELINK_AND_RECORD_SPLITS: LiteralString = (
    OPTIONS
    + """
CALL () {
  UNWIND $relink.moves AS move
  MATCH (member:Contact {id: move.id})
  CALL (member) {
    MATCH (member)-[link:LINKED_TO]->()
    DELETE link
  }
  CALL (member, move) {
    MATCH (primary:Contact {id: move.primaryId})
    WHERE move.primaryId <> move.id
    CREATE (member)-[:LINKED_TO]->(primary)
  }
  SET member.linkPrecedence = CASE WHEN move.primaryId = move.id THEN 'primary'
                                   ELSE 'secondary' END,
      member.updatedAt = """
    + _NOW
    + """
}
CALL () {
  UNWIND $relink.splits AS split
  MATCH (primary:Contact {id: split.primaryAfter})
  CREATE (event:Event {
    id: randomUUID(),
    at: """
    + EVENT_TIME
    + """,
    kind: 'SPLIT',
    requestId: $relink.requestId,
    contactIds: split.contactIds,
    primaryBefore: split.primaryBefore,
    primaryAfter: split.primaryAfter
  })-[:ABOUT]->(primary)
  """
    + into_outbox("$relink.outbox")
    + """
}
"""
)

# The conflicts naming a contact of the clusters erasure recomputed: each side becomes the
# cluster that holds its value now (a split may have moved the value away from the contact the
# side named). A conflict whose value links nobody any more, or whose two values are now in one
# cluster, is settled and goes. Its key stays: it is the conflict's id in the API, and the list
# shows one conflict per pair of clusters (LIST_CONFLICTS).
RESIDE_CONFLICTS: LiteralString = (
    OPTIONS
    + """
CALL () {
  UNWIND $reside.memberIds AS memberId
  MATCH (conflict:Conflict {emailSideId: memberId})
  RETURN conflict
  UNION
  UNWIND $reside.memberIds AS memberId
  MATCH (conflict:Conflict {phoneSideId: memberId})
  RETURN conflict
}
CALL (conflict) {
  OPTIONAL MATCH (:Email {value: conflict.email})<-[:HAS_EMAIL]-(holder:Contact)
  WHERE holder.deletedAt IS NULL
  OPTIONAL MATCH (holder)-[:LINKED_TO]->(primary:Contact)
  RETURN coalesce(primary, holder).id AS emailSide LIMIT 1
}
CALL (conflict) {
  OPTIONAL MATCH (:Phone {value: conflict.phoneNumber})<-[:HAS_PHONE]-(holder:Contact)
  WHERE holder.deletedAt IS NULL
  OPTIONAL MATCH (holder)-[:LINKED_TO]->(primary:Contact)
  RETURN coalesce(primary, holder).id AS phoneSide LIMIT 1
}
CALL (conflict, emailSide, phoneSide) {
  WITH * WHERE emailSide IS NULL OR phoneSide IS NULL OR emailSide = phoneSide
  DELETE conflict
}
CALL (conflict, emailSide, phoneSide) {
  WITH * WHERE emailSide <> phoneSide
  SET conflict.emailSideId = emailSide, conflict.phoneSideId = phoneSide
}
"""
)
