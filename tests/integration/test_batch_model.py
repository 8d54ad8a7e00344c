"""Batches in one identify transaction against the reference model applied row by row."""

from __future__ import annotations

import hypothesis.strategies as st
from hypothesis import HealthCheck, given, note, settings
from neo4j import AsyncDriver

from graphdb.consistency import check_graph
from graphdb.driver import ensure_constraints
from graphdb.identify_tx import identify_batch_transaction
from graphdb.records import ClusterRecord, IdentifyOutcome, IdentifyRecord
from graphdb.requests import IdentifyRequest
from tests.support.batches import Request, keys_of, model_primary_of, requests, with_distinct_keys
from tests.support.database import wipe
from tests.support.model import Answer, IdRenaming, ReferenceModel

batches = st.lists(
    st.lists(requests, min_size=1, max_size=8).map(with_distinct_keys), min_size=1, max_size=5
)


def _model_outcome(model: ReferenceModel, request: Request) -> IdentifyOutcome:
    """Applies the request to the model and says what it did there."""
    model.identify(*request)
    return IdentifyOutcome(model.last_outcome.value)


def _as_answer(cluster: ClusterRecord, renaming: IdRenaming, expected: Answer) -> Answer:
    ids = [contact.id for contact in cluster.contacts]
    return renaming.answer(ids, cluster.emails, cluster.phone_numbers, expected)


async def _commit_batch(
    driver: AsyncDriver, database: str, batch: list[Request]
) -> list[IdentifyRecord]:
    """One transaction, as the repository commits a batch it cannot decide at once."""
    rows = [IdentifyRequest(email, phone) for email, phone in batch]
    async with driver.session(database=database) as session:
        outcomes = await session.execute_write(identify_batch_transaction, rows)
    # No request carries an idempotency key, so none is refused.
    records = [record for record in outcomes if isinstance(record, IdentifyRecord)]
    assert len(records) == len(rows)
    return records


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(sequence=batches)
async def test_each_row_answers_its_cluster_as_the_batch_left_it(
    driver: AsyncDriver, database: str, sequence: list[list[Request]]
) -> None:
    note(f"batches: {sequence}")
    await wipe(driver, database)
    # The statements' index hints need the uniqueness constraints; nothing here ran prepare().
    await ensure_constraints(driver, database)
    model = ReferenceModel()
    renaming = IdRenaming()
    for batch in sequence:
        # identify_batch_transaction's precondition, which the batcher keeps.
        assert all(
            keys_of(a).isdisjoint(keys_of(b)) for i, a in enumerate(batch) for b in batch[:i]
        )
        records = await _commit_batch(driver, database, batch)
        outcomes = [_model_outcome(model, request) for request in batch]
        # Every answer is the cluster at the end of the transaction, so the model's state after
        # the whole batch, not after the row, is what a row must see.
        for request, record, outcome in zip(batch, records, outcomes, strict=True):
            expected = model.answer(model_primary_of(model, request))
            assert _as_answer(record.cluster, renaming, expected) == expected, (request, batch)
            assert record.outcome is outcome, (request, batch)
    assert await check_graph(driver, database) == []
