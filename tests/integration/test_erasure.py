"""Erasure on the repository: values removed everywhere, clusters recomputed from the evidence
that remains, SPLIT and ERASED in the ledger, dry runs that write nothing."""

from __future__ import annotations

import hashlib

import pytest
from neo4j import AsyncDriver

from graphdb.consistency import check_graph
from graphdb.idempotency import IdempotencyClaim
from graphdb.identify_tx import LinkRules
from graphdb.ledger import EventKind, ValueTokens
from graphdb.repository import ContactRepository, RepositoryLimits
from graphdb.requests import IdentifyRequest

COUNT_ALL = "MATCH (n) RETURN count(n) AS nodes"
VALUES = """
MATCH (c:Contact)
RETURN collect(c.email) + collect(c.phoneNumber) + collect(c.emailAsSent) AS values,
       COLLECT { MATCH (e:Email) RETURN e.value } + COLLECT { MATCH (p:Phone) RETURN p.value }
         AS nodes
"""


async def _spec_merge(repository: ContactRepository) -> tuple[int, int]:
    george = await repository.identify("george@hillvalley.edu", "919191")
    biff = await repository.identify("biffsucks@hillvalley.edu", "717171")
    merged = await repository.identify("george@hillvalley.edu", "717171")
    assert merged.cluster.secondaries[0].id == biff.cluster.primary.id
    return george.cluster.primary.id, biff.cluster.primary.id


async def test_erasing_the_merges_email_leaves_two_clusters_again(
    repository: ContactRepository, driver: AsyncDriver, database: str
) -> None:
    george, biff = await _spec_merge(repository)

    result = await repository.erase_identifier("george@hillvalley.edu", None)

    assert [cluster.primary.id for cluster in result.clusters] == [george, biff]
    george_cluster, biff_cluster = result.clusters
    assert george_cluster.emails == []
    assert george_cluster.phone_numbers == ["919191"]
    assert george_cluster.secondaries == ()
    assert biff_cluster.emails == ["biffsucks@hillvalley.edu"]
    assert result.contact_ids == [george]
    records, _, _ = await driver.execute_query(VALUES, database_=database)
    assert "george@hillvalley.edu" not in str(records[0].data())
    assert await check_graph(driver, database) == []
    # Each side's history tells what happened; the ledger never held the value.
    biff_history = await repository.history(biff, first=10, after=None)
    george_history = await repository.history(george, first=10, after=None)
    created, merged, split = EventKind.CREATED, EventKind.MERGED, EventKind.SPLIT
    # A history is of the contacts in the cluster now: each side keeps the merge, and its own.
    assert [e.kind for e in biff_history] == [split, merged, created]
    assert [e.kind for e in george_history] == [split, EventKind.ERASED, merged, created]
    assert (biff_history[0].primary_before, biff_history[0].primary_after) == (george, biff)
    assert george_history[1].contact_ids == (george,)
    assert (george_history[1].primary_before, george_history[1].primary_after) == (george, george)
    assert george_history[1].bridge_token is None  # nothing of the value, not even a hash
    assert (await repository.explain(george, biff)).connected is False


async def test_a_shared_value_keeps_a_cluster_together(repository: ContactRepository) -> None:
    doc = await repository.identify("doc@hillvalley.edu", "5550101")
    await repository.identify("emmett@hillvalley.edu", "5550101")
    await repository.identify("emmett@hillvalley.edu", "5550102")

    result = await repository.erase_identifier("doc@hillvalley.edu", None)

    (cluster,) = result.clusters
    assert cluster.primary.id == doc.cluster.primary.id
    assert len(cluster.contacts) == 3
    assert cluster.emails == ["emmett@hillvalley.edu"]


async def test_erasing_the_primary_elects_the_oldest_of_each_part(
    repository: ContactRepository, driver: AsyncDriver, database: str
) -> None:
    # doc is the middle of the chain: marty -phone- doc -email- jen.
    marty = await repository.identify("marty@hillvalley.edu", "5550101")
    doc = await repository.identify("doc@hillvalley.edu", "5550101")
    jen = await repository.identify("doc@hillvalley.edu", "5550103")
    await repository.identify("jennifer@hillvalley.edu", "5550103")
    doc_id = doc.cluster.secondaries[0].id

    result = await repository.erase_contact(doc_id)

    assert result is not None
    primaries = [cluster.primary.id for cluster in result.clusters]
    assert primaries == [marty.cluster.primary.id, jen.cluster.secondaries[-1].id]
    assert all(doc_id not in [c.id for c in cluster.contacts] for cluster in result.clusters)
    assert await repository.cluster_by_id(doc_id) is None
    assert await check_graph(driver, database) == []


async def test_a_dry_run_answers_the_same_and_writes_nothing(
    repository: ContactRepository, driver: AsyncDriver, database: str
) -> None:
    await _spec_merge(repository)
    before, _, _ = await driver.execute_query(VALUES, database_=database)

    dry = await repository.erase_identifier("george@hillvalley.edu", None, dry_run=True)
    after, _, _ = await driver.execute_query(VALUES, database_=database)
    done = await repository.erase_identifier("george@hillvalley.edu", None)

    assert before == after
    assert [c.primary.id for c in dry.clusters] == [c.primary.id for c in done.clusters]
    assert dry.contact_ids == done.contact_ids


async def test_an_operator_merge_falls_with_an_erased_contact(
    repository: ContactRepository, driver: AsyncDriver, database: str
) -> None:
    doc = await repository.identify("doc@hillvalley.edu", None)
    marty = await repository.identify("marty@hillvalley.edu", None)
    jen = await repository.identify("jen@hillvalley.edu", "5550103")
    await repository.identify("marty@hillvalley.edu", "5550103")
    a, b = doc.cluster.primary.id, marty.cluster.primary.id
    await repository.merge_clusters(a, b)

    result = await repository.erase_contact(a)

    assert result is not None
    (cluster,) = result.clusters
    assert cluster.primary.id == b
    assert jen.cluster.primary.id in [c.id for c in cluster.contacts]
    assert await check_graph(driver, database) == []


async def test_erasing_what_nobody_carries_changes_nothing(
    repository: ContactRepository, driver: AsyncDriver, database: str
) -> None:
    await repository.identify("doc@hillvalley.edu", None)
    before, _, _ = await driver.execute_query(COUNT_ALL, database_=database)

    result = await repository.erase_identifier("nobody@hillvalley.edu", "5550000")

    assert (result.erased, result.clusters) == ([], [])
    after, _, _ = await driver.execute_query(COUNT_ALL, database_=database)
    assert before == after
    assert await repository.erase_contact(999) is None


async def test_a_merge_stands_while_its_values_do_whoever_it_joined(
    repository: ContactRepository, driver: AsyncDriver, database: str
) -> None:
    # 1 and 2 share 111; 3 and 4 share b@; the request (x@, 444) merged 3's cluster into 1's.
    ids = [
        (await repository.identify(email, phone)).cluster.contacts[-1].id
        for email, phone in [
            ("a@hillvalley.edu", "111"),
            ("x@hillvalley.edu", "111"),
            ("b@hillvalley.edu", "222"),
            ("b@hillvalley.edu", "444"),
        ]
    ]
    await repository.identify("x@hillvalley.edu", "444")

    first = await repository.erase_contact(ids[0])
    second = await repository.erase_contact(ids[2])

    assert first is not None
    assert second is not None
    # 2 carries x@ and 4 carries 444: the merge's evidence stands, though both contacts it
    # named (1, the winner, and 3, the loser) are erased.
    assert [[c.id for c in cluster.contacts] for cluster in first.clusters] == [ids[1:]]
    assert [[c.id for c in cluster.contacts] for cluster in second.clusters] == [[ids[1], ids[3]]]
    assert await check_graph(driver, database) == []


async def test_contacts_from_before_the_unlinked_label_are_found(
    repository: ContactRepository, driver: AsyncDriver, database: str
) -> None:
    await repository.identify_request(
        IdentifyRequest(None, "5550101", blocked_email="test@test.com")
    )
    # As an older version left it: the value marked unlinked, no label, no migration yet.
    await driver.execute_query(
        "MATCH (c:Contact) REMOVE c:Unlinked WITH count(c) AS n MATCH (m:Migration) DELETE m",
        database_=database,
    )
    upgraded = ContactRepository(driver, database)
    await upgraded.prepare()

    result = await upgraded.erase_identifier("test@test.com", None)

    assert len(result.contact_ids) == 1
    records, _, _ = await driver.execute_query(
        "MATCH (c:Contact) RETURN c.email AS email, c.emailUnlinked AS why", database_=database
    )
    assert [record.data() for record in records] == [{"email": None, "why": None}]


async def test_hashes_an_older_erasure_left_are_stripped_on_upgrade(
    driver: AsyncDriver, database: str
) -> None:
    tokens = ValueTokens(KEY)
    repository = ContactRepository(driver, database, tokens=tokens)
    await _spec_merge(repository)
    await repository.identify("george@hillvalley.edu", "555")  # linked by george's email
    await repository.erase_identifier("george@hillvalley.edu", None)
    george = tokens("email", "george@hillvalley.edu")
    # As an older version left it: the ERASED event and the bridges kept the hash.
    await driver.execute_query(
        "MATCH (e:Event) WHERE e.kind = 'ERASED' OR e.bridgeKind = 'email' "
        "SET e.bridgeHash = $hash WITH count(e) AS n MATCH (m:Migration) DELETE m",
        hash=george,
        database_=database,
    )
    biff = tokens("phone", "717171")
    await driver.execute_query(
        "MATCH (e:Event {kind: 'MERGED'}) SET e.bridgeKind = 'phone', e.bridgeHash = $hash",
        hash=biff,
        database_=database,
    )

    await ContactRepository(driver, database, tokens=tokens).prepare()

    records, _, _ = await driver.execute_query(
        "MATCH (e:Event) WHERE e.bridgeHash IS NOT NULL "
        "RETURN e.kind AS kind, e.bridgeHash AS hash",
        database_=database,
    )
    # The merge's bridge, 717171, is not erased: it stays.
    assert [record.data() for record in records] == [{"kind": "MERGED", "hash": biff}]


# Every property of every node and relationship, as text, to look for what erasure must leave
# nowhere.
EVERY_PROPERTY = """
MATCH (n) RETURN labels(n) AS what, properties(n) AS properties
UNION ALL
MATCH ()-[r]->() RETURN [type(r)] AS what, properties(r) AS properties
"""
KEY = b"the ledger's key in this test"
# An idempotent request's body: its hash is kept with the answer.
BODY = b'{"email":"marty@hillvalley.edu","phoneNumber":"222"}'


async def _every_trace(repository: ContactRepository) -> dict[str, int]:
    """A cluster that has been through everything that keeps a value: marty's email is a
    LINKED event's bridge, a MERGED event's bridge and evidence, a held-back merge's conflict,
    an idempotent answer, and events not yet delivered (webhooks configured); the phone 111 a
    LINKED event's bridge. The contacts, by name."""
    doc = await repository.identify("doc@hillvalley.edu", "111")
    marty = await repository.identify("marty@hillvalley.edu", "222")
    await repository.identify("marty@hillvalley.edu", "111")  # merged by marty's email
    await repository.identify("marty@hillvalley.edu", "333")  # linked by it
    await repository.identify("george@hillvalley.edu", "111")  # linked by the phone
    biff = await repository.identify("biff@hillvalley.edu", "444")
    await repository.identify("marty@hillvalley.edu", "444")  # held back: past the cap
    claim = IdempotencyClaim(key="a key", body=hashlib.sha256(BODY).hexdigest())
    await repository.identify_request(
        IdentifyRequest("marty@hillvalley.edu", "222", idempotency=claim)
    )
    assert await repository.conflicts(10, None)
    return {
        "doc": doc.cluster.primary.id,
        "marty": marty.cluster.primary.id,
        "biff": biff.cluster.primary.id,
    }


@pytest.mark.parametrize("erased", ["marty's email", "the phone 111", "marty's contact"])
async def test_erasure_leaves_nothing_that_identifies_the_value(
    driver: AsyncDriver, database: str, erased: str
) -> None:
    tokens = ValueTokens(KEY)
    limits = RepositoryLimits(link=LinkRules(max_cluster_contacts=4))
    repository = ContactRepository(driver, database, limits, tokens=tokens, outbox=True)
    contacts = await _every_trace(repository)

    if erased == "marty's email":
        await repository.erase_identifier("marty@hillvalley.edu", None)
        gone = [("email", "marty@hillvalley.edu")]
    elif erased == "the phone 111":
        await repository.erase_identifier(None, "111")
        gone = [("phone", "111")]
    else:
        assert await repository.erase_contact(contacts["marty"]) is not None
        gone = [("email", "marty@hillvalley.edu"), ("phone", "222")]

    records, _, _ = await driver.execute_query(EVERY_PROPERTY, database_=database)
    # Every text a property holds, a list's items too (times are no text: "111" would be found
    # in one's nanoseconds).
    texts = [
        text
        for record in records
        for value in record["properties"].values()
        for text in (value if isinstance(value, list) else [value])
        if isinstance(text, str)
    ]
    for kind, value in gone:
        # Inside a longer text too (an answer's JSON), for values long enough not to turn up
        # by chance in an id's hex digits; a 3-digit phone, as a whole text.
        left = [t for t in texts if t == value or (len(value) >= 8 and value in t)]
        assert not left, f"{kind} is left"
        token = tokens(kind, value)
        assert token is not None
        assert not [text for text in texts if token.split(":")[1] in text], f"{kind}'s hash"
    if erased != "the phone 111":
        assert not [text for text in texts if hashlib.sha256(BODY).hexdigest() in text]
    assert await check_graph(driver, database) == []
    # What a webhook receiver is told: which contacts to purge, and of what kind of value.
    erasures, _, _ = await driver.execute_query(
        "MATCH (e:Event:Outbox {kind: 'ERASED'}) RETURN e.contactIds AS ids, e.bridgeKind AS kind",
        database_=database,
    )
    assert {record["kind"] for record in erasures} == {kind for kind, _ in gone}
    assert all(record["ids"] for record in erasures)
