"""Rounds of concurrent requests through the real batcher leave the clusters of arrival order."""

from __future__ import annotations

import asyncio

import hypothesis.strategies as st
from hypothesis import HealthCheck, example, given, note, settings
from neo4j import AsyncDriver

from graphdb.consistency import check_graph
from graphdb.records import IdentifyRecord
from graphdb.repository import ContactRepository, RepositoryLimits
from tests.support.batches import Request, requests
from tests.support.database import wipe
from tests.support.model import ReferenceModel

rounds = st.lists(st.lists(requests, min_size=3, max_size=12), min_size=1, max_size=3)

Pair = tuple[str | None, str | None]
# A cluster as (its primary's (email, phone), every member's (email, phone)): ids and times
# differ between the service and the model, the values and who is primary must not.
ClusterShape = tuple[Pair, frozenset[Pair]]

READ_CLUSTERS = """
MATCH (primary:Contact)
WHERE primary.deletedAt IS NULL AND NOT (primary)-[:LINKED_TO]->(:Contact)
RETURN [primary.email, primary.phoneNumber] AS primary,
       [[primary.email, primary.phoneNumber]] + COLLECT {
         MATCH (secondary:Contact)-[:LINKED_TO]->(primary)
         WHERE secondary.deletedAt IS NULL
         RETURN [secondary.email, secondary.phoneNumber]
       } AS members
"""


async def _graph_clusters(driver: AsyncDriver, database: str) -> set[ClusterShape]:
    records, _, _ = await driver.execute_query(READ_CLUSTERS, database_=database)
    return {
        (
            (record["primary"][0], record["primary"][1]),
            frozenset((email, phone) for email, phone in record["members"]),
        )
        for record in records
    }


def _model_clusters(model: ReferenceModel) -> set[ClusterShape]:
    by_id = {contact.id: contact for contact in model.contacts}
    members: dict[int, set[Pair]] = {}
    for contact in model.contacts:
        primary_id = contact.id if contact.linked_id is None else contact.linked_id
        members.setdefault(primary_id, set()).add((contact.email, contact.phone))
    return {
        ((by_id[primary_id].email, by_id[primary_id].phone), frozenset(pairs))
        for primary_id, pairs in members.items()
    }


def _holds(answer: IdentifyRecord, request: Request) -> bool:
    email, phone = request
    return (email is None or email in answer.cluster.emails) and (
        phone is None or phone in answer.cluster.phone_numbers
    )


# Why the model applies a round's requests in arrival order, although the batcher runs them in
# another order: the first request runs alone; the rest wait and go in later transactions, and a
# request sharing an email or phone with an earlier one, in flight or waiting, is held back while
# later requests overtake it. Within a transaction rows act one after another in arrival order
# (test_batch_model), so the service ran the round in some order that keeps arrival order per
# key. Turn that order into arrival order by swapping neighbours: each swapped pair shares no
# key (per key the order is kept), and such a pair commutes in what this test compares:
# - whether a request creates, and what, depends only on contacts holding its own values, which
#   the other never creates;
# - each request joins the clusters holding its values; joins of a partition commute;
# - a cluster's primary is its oldest contact, always one created as a primary, so only the
#   order in which primaries are created could change it. Of a swapped pair, the one that ran
#   late was held back behind an earlier request on one of its keys, which ran before it and
#   made that key known: it matched a contact and created no primary.
# So clusters and primaries are arrival order's; only ids and secondaries' times may differ.
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(sequence=rounds)
# The overtaking the comment above is about. After doc's request, (None, 5550103) goes in the
# next batch; (marty, 5550103) waits for it, and (marty, None) waits behind that one (a key
# shared with a request held back is enough). Let through early, (marty, None) would make marty a
# primary, which (marty, 5550103) would then merge instead of adding itself as a secondary.
@example(
    sequence=[
        [
            ("doc@hillvalley.edu", "5550101"),
            (None, "5550103"),
            ("marty@hillvalley.edu", "5550103"),
            ("marty@hillvalley.edu", None),
        ]
    ]
)
async def test_concurrent_rounds_leave_the_clusters_of_arrival_order(
    driver: AsyncDriver, database: str, sequence: list[list[Request]]
) -> None:
    note(f"rounds: {sequence}")
    await wipe(driver, database)
    # One transaction at a time: the first request of a round runs alone and the rest queue
    # behind it, so batches form the same way on every run.
    repository = ContactRepository(driver, database, RepositoryLimits(max_in_flight=1))
    # Prepared first, so that nothing awaits between a request's call and its place in the
    # queue: gather's order is arrival order.
    await repository.prepare()
    model = ReferenceModel()
    try:
        for round_ in sequence:
            answers = await asyncio.gather(
                *(repository.identify(email, phone) for email, phone in round_)
            )
            for email, phone in round_:
                model.identify(email, phone)
            assert await check_graph(driver, database) == []
            assert await _graph_clusters(driver, database) == _model_clusters(model)
            for request, answer in zip(round_, answers, strict=True):
                assert _holds(answer, request), (request, answer)
    finally:
        await repository.close()
