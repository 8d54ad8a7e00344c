"""Random request sequences against the service and the reference model: answers must agree,
with the identity-quality rules at small limits so that blocked values, hubs and held-back merges
come up in most sequences."""

from __future__ import annotations

import hypothesis.strategies as st
from hypothesis import HealthCheck, event, example, given, settings
from neo4j import AsyncDriver

from graphdb.consistency import check_graph
from graphdb.identify_tx import LinkRules
from graphdb.records import ClusterRecord
from graphdb.repository import ContactRepository, RepositoryLimits
from resolvers.core.identifiers import IdentifierRules
from resolvers.core.identify import identify
from tests.support.database import wipe
from tests.support.model import Answer, IdRenaming, ReferenceModel

# A deliberately small pool, so that requests collide, add secondaries and merge clusters; one
# email and one phone of it are blocked by the built-in list.
EMAILS = [
    "doc@hillvalley.edu",
    "marty@hillvalley.edu",
    "jen@hillvalley.edu",
    "biff@hillvalley.edu",
    "test@test.com",
]
PHONES = ["5550101", "5550102", "5550103", "+15550104", "0000000"]
BLOCKED = frozenset({"test@test.com", "0000000"})
# (MAX_CONTACTS_PER_IDENTIFIER, MAX_CLUSTER_CONTACTS): small enough that hubs and held-back
# merges come up in short sequences, and the defaults, under which the pool never reaches them.
LIMITS = [(2, 3), (3, 2), (50, 1000)]


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
    min_size=4,
    max_size=24,
)


def _as_answer(cluster: ClusterRecord, renaming: IdRenaming, expected: Answer) -> Answer:
    ids = [cluster.primary.id, *(contact.id for contact in cluster.secondaries)]
    return renaming.answer(ids, cluster.emails, cluster.phone_numbers, expected)


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# Found by CI: a merge held back (doc's cluster against marty's, by the phone), then marty
# erased, which split the phone away from the contact the conflict named as its phone side.
@example(
    sequence=[
        (("doc@hillvalley.edu", "doc@hillvalley.edu"), None),
        (("marty@hillvalley.edu", "marty@hillvalley.edu"), None),
        (("marty@hillvalley.edu", "marty@hillvalley.edu"), ("5550101", "5550101")),
        (("doc@hillvalley.edu", "doc@hillvalley.edu"), ("5550101", "5550101")),
        (("doc@hillvalley.edu", "doc@hillvalley.edu"), ("5550101", "5550101")),
    ],
    limits=(3, 2),
    erasures=[(3, "marty@hillvalley.edu")],
)
@given(
    sequence=requests,
    limits=st.sampled_from(LIMITS),
    # After which request a value is erased (eraseIdentifier), and which.
    erasures=st.lists(
        st.tuples(st.integers(0, 23), st.sampled_from([*EMAILS, *PHONES])), max_size=3
    ),
)
async def test_service_answers_like_the_reference_model(
    driver: AsyncDriver,
    database: str,
    sequence: list[tuple[tuple[str, str] | None, tuple[str, str] | None]],
    limits: tuple[int, int],
    erasures: list[tuple[int, str]],
) -> None:
    await wipe(driver, database)
    per_identifier, cluster_cap = limits
    link = LinkRules(max_contacts_per_identifier=per_identifier, max_cluster_contacts=cluster_cap)
    # Fresh id blocks for a fresh graph.
    repository = ContactRepository(driver, database, RepositoryLimits(link=link))
    model = ReferenceModel(BLOCKED, per_identifier, cluster_cap)
    renaming = IdRenaming()
    for step, (email, phone) in enumerate(sequence):
        result = await identify(
            repository,
            IdentifierRules(),
            None if email is None else email[0],
            None if phone is None else phone[0],
        )
        expected = model.identify(
            None if email is None else email[1], None if phone is None else phone[1]
        )
        assert _as_answer(result.cluster, renaming, expected) == expected
        assert result.outcome.value == model.last_outcome.value
        assert {(code.value, field) for code, field in result.warnings} == model.last_warnings
        for code, _ in model.last_warnings:
            event(code)  # --hypothesis-show-statistics shows how often each rule came up
        for value in [value for after, value in erasures if after == step]:
            kind = "email" if "@" in value else "phone"
            erased = await repository.erase_identifier(
                value if kind == "email" else None, value if kind == "phone" else None
            )
            left = model.erase(kind, value)
            assert len(erased.clusters) == len(left), (erased, left)
            for cluster, expected in zip(erased.clusters, left, strict=True):
                assert _as_answer(cluster, renaming, expected) == expected
            if len(left) > 1:
                event("erasure split a cluster")
    listed = {
        (renaming.to_model[c.email_primary_id], renaming.to_model[c.phone_primary_id])
        for c in await repository.conflicts(100, None)
    }
    assert listed == model.open_conflicts()
    assert await check_graph(driver, database) == []
