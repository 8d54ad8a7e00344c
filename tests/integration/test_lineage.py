"""The ledger, explain and idempotency keys on the repository: events written with the changes
they record, the chain of evidence across a cluster of a thousand contacts, and keys claimed
in Neo4j by racing repositories."""

from __future__ import annotations

import asyncio

import pytest
from neo4j import AsyncDriver

from graphdb.idempotency import IdempotencyClaim, IdempotencyKeyReused
from graphdb.ledger import BridgeKind, EventKind, ValueTokens
from graphdb.repository import ContactRepository
from graphdb.requests import IdentifyRequest

CHAIN = 1000


async def _chain(repository: ContactRepository, contacts: int) -> list[int]:
    """Contacts each sharing one value with the one before: the longest chain a cluster has."""
    made = []
    for n in range(contacts):
        email = f"c{(n + 1) // 2}@chain.example"
        phone = f"555{n // 2:07d}"
        record = await repository.identify(email, phone)
        made.append(max(contact.id for contact in record.cluster.contacts))
    return made


async def test_explain_walks_a_thousand_contact_chain(repository: ContactRepository) -> None:
    made = await _chain(repository, CHAIN)
    first, last = made[0], made[-1]

    explanation = await repository.explain(first, last)

    assert explanation.connected
    # Contact, value, contact, value, ...: every contact of the chain, and a value between each.
    assert len(explanation.path) == 2 * (CHAIN - 1)
    contacts = [link.source.contact_id for link in explanation.path[::2]]
    assert contacts == made[:-1]
    assert explanation.path[-1].target.contact_id == last
    assert all(link.event is not None for link in explanation.path)
    kinds = {link.event.kind for link in explanation.path if link.event is not None}
    assert kinds == {EventKind.CREATED, EventKind.LINKED}


async def test_every_change_is_in_the_ledger_of_its_cluster(
    repository: ContactRepository,
) -> None:
    doc = await repository.identify("doc@hillvalley.edu", "5550101")
    await repository.identify("doc@hillvalley.edu", "5550101")  # nothing new: no event
    marty = await repository.identify("marty@hillvalley.edu", "5550102")
    linked = await repository.identify("marty@hillvalley.edu", "5550103")
    merged = await repository.identify("doc@hillvalley.edu", "5550102")
    primary = doc.cluster.primary.id

    history = await repository.history(primary, first=10, after=None)

    assert [event.kind for event in history] == [
        EventKind.MERGED,
        EventKind.LINKED,
        EventKind.CREATED,
        EventKind.CREATED,
    ]
    merge, link = history[0], history[1]
    assert (merge.primary_before, merge.primary_after) == (marty.cluster.primary.id, primary)
    assert merge.bridge is BridgeKind.PHONE
    assert link.contact_ids == (linked.cluster.secondaries[-1].id,)
    assert link.bridge is BridgeKind.EMAIL
    assert merged.cluster.primary.id == primary


async def test_an_operator_merge_is_its_own_evidence(
    repository: ContactRepository, driver: AsyncDriver
) -> None:
    doc = await repository.identify("doc@hillvalley.edu", "5550101")
    marty = await repository.identify("marty@hillvalley.edu", "5550102")
    a, b = doc.cluster.primary.id, marty.cluster.primary.id

    await repository.merge_clusters(a, b, request_id="by-hand")
    explanation = await repository.explain(a, b)

    assert explanation.connected
    (link,) = explanation.path
    assert link.event is not None
    assert link.event.kind is EventKind.MERGED
    assert link.event.bridge is BridgeKind.OPERATOR
    assert link.event.request_id == "by-hand"


async def test_32_repositories_racing_on_one_key_make_one_contact(
    driver: AsyncDriver, database: str
) -> None:
    # A repository each: no batcher orders them, only Neo4j's lock on the key does.
    # One install: one key for the hashes, as the service's processes share.
    tokens = ValueTokens(b"the install's key")
    repositories = [ContactRepository(driver, database, tokens=tokens) for _ in range(32)]
    claim = IdempotencyClaim(key="scoped key hash", body="body hash")
    request = IdentifyRequest("biff@hillvalley.edu", "5550199", idempotency=claim)
    try:
        records = await asyncio.gather(*(r.identify_request(request) for r in repositories))
    finally:
        for repository in repositories:
            await repository.close()

    assert len({record.cluster for record in records}) == 1
    outcomes = sorted(record.outcome.value for record in records)
    assert outcomes == ["created_primary"] + ["replayed"] * 31
    contacts, _, _ = await driver.execute_query(
        "MATCH (c:Contact) RETURN count(c) AS n", database_=database
    )
    assert contacts[0]["n"] == 1


async def test_a_key_with_another_body_is_refused_across_repositories(
    driver: AsyncDriver, database: str
) -> None:
    tokens = ValueTokens(b"the install's key")
    first = ContactRepository(driver, database, tokens=tokens)
    second = ContactRepository(driver, database, tokens=tokens)
    claim = IdempotencyClaim(key="k", body="one body")
    await first.identify_request(IdentifyRequest("doc@hillvalley.edu", None, idempotency=claim))
    other = IdempotencyClaim(key="k", body="another body")

    with pytest.raises(IdempotencyKeyReused):
        await second.identify_request(
            IdentifyRequest("marty@hillvalley.edu", None, idempotency=other)
        )
    assert await second.cluster_by_email("marty@hillvalley.edu") is None


async def test_expired_keys_are_purged_and_live_ones_kept(
    driver: AsyncDriver, database: str, repository: ContactRepository
) -> None:
    for n in range(3):
        claim = IdempotencyClaim(key=f"k{n}", body="b")
        await repository.identify_request(
            IdentifyRequest(f"c{n}@x.example", None, idempotency=claim)
        )
    await driver.execute_query(
        "MATCH (k:IdempotencyKey) WHERE k.key IN ['k0', 'k1'] "
        "SET k.expiresAt = datetime() - duration('PT1S')",
        database_=database,
    )

    assert await repository.purge_idempotency_keys() == 2
    left, _, _ = await driver.execute_query(
        "MATCH (k:IdempotencyKey) RETURN collect(k.key) AS keys", database_=database
    )
    assert left[0]["keys"] == ["k2"]
    # An expired key is a new key: the request runs again.
    again = await repository.identify_request(
        IdentifyRequest("c0@x.example", None, idempotency=IdempotencyClaim(key="k0", body="b"))
    )
    assert again.outcome.value == "nothing_new"
