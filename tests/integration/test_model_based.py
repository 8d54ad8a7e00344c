"""Random request sequences against the service and the reference model: answers must agree."""

from __future__ import annotations

import hypothesis.strategies as st
from hypothesis import HealthCheck, given, settings
from neo4j import AsyncDriver

from graphdb.consistency import check_graph
from graphdb.records import ClusterRecord
from graphdb.repository import ContactRepository
from resolvers.core.identify import identify
from tests.support.database import wipe
from tests.support.model import Answer, IdRenaming, ReferenceModel

# A deliberately small pool, so that requests collide, add secondaries and merge clusters.
EMAILS = ["doc@hillvalley.edu", "marty@hillvalley.edu", "jen@hillvalley.edu", "biff@hillvalley.edu"]
PHONES = ["5550101", "5550102", "5550103", "+15550104"]


@st.composite
def presented_email(draw: st.DrawFn) -> tuple[str, str]:
    """(as sent, canonical): the same email with other case and surrounding spaces."""
    email = draw(st.sampled_from(EMAILS))
    shown = draw(st.sampled_from([email, email.upper(), f"  {email}\t", email.title()]))
    return shown, email


@st.composite
def presented_phone(draw: st.DrawFn) -> tuple[str, str]:
    phone = draw(st.sampled_from(PHONES))
    digits = phone.lstrip("+")
    sign = phone[: len(phone) - len(digits)]
    shown = draw(
        st.sampled_from(
            [phone, f"{sign}{digits[:3]}-{digits[3:]}", f" {sign}({digits[:3]}) {digits[3:]} "]
        )
    )
    return shown, phone


requests = st.lists(
    st.one_of(
        st.tuples(presented_email(), presented_phone()),
        st.tuples(presented_email(), st.none()),
        st.tuples(st.none(), presented_phone()),
    ),
    min_size=1,
    max_size=14,
)


def _as_answer(cluster: ClusterRecord, renaming: IdRenaming, expected: Answer) -> Answer:
    ids = [cluster.primary.id, *(contact.id for contact in cluster.secondaries)]
    return renaming.answer(ids, cluster.emails, cluster.phone_numbers, expected)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(sequence=requests)
async def test_service_answers_like_the_reference_model(
    driver: AsyncDriver,
    database: str,
    sequence: list[tuple[tuple[str, str] | None, tuple[str, str] | None]],
) -> None:
    await wipe(driver, database)
    repository = ContactRepository(driver, database)  # fresh id blocks for a fresh graph
    model = ReferenceModel()
    renaming = IdRenaming()
    for email, phone in sequence:
        result = await identify(
            repository, None if email is None else email[0], None if phone is None else phone[0]
        )
        expected = model.identify(
            None if email is None else email[1], None if phone is None else phone[1]
        )
        assert _as_answer(result.cluster, renaming, expected) == expected
    assert await check_graph(driver, database) == []
