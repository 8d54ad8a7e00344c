"""Identity quality on a real Neo4j: E.164 phones, blocked values, hubs, the cluster cap and its
conflicts, merges on purpose, bounded relinking and pages of contacts."""

from __future__ import annotations

import asyncio

import pytest
from neo4j import AsyncDriver

from graphdb.consistency import check_graph
from graphdb.identify_tx import LinkRules
from graphdb.records import IdentifyOutcome, IdentifyRecord, IdentityWarning
from graphdb.repository import ContactRepository, RepositoryLimits
from resolvers.core.blocklist import Blocklist
from resolvers.core.identifiers import IdentifierRules
from resolvers.core.identify import identify

US = IdentifierRules(phone_region="US")
# The "done when" limits.
SMALL = LinkRules(max_contacts_per_identifier=3, max_cluster_contacts=10, relink_chunk=4)


@pytest.fixture
def small(driver: AsyncDriver, database: str) -> ContactRepository:
    return ContactRepository(driver, database, RepositoryLimits(link=SMALL))


async def _chain(repository: ContactRepository, tag: str, size: int) -> IdentifyRecord:
    """A cluster of `size` contacts in which no value is on more than two: a chain of
    (email n, phone n), (email n+1, phone n), ..."""
    record = await identify(repository, US, f"{tag}0@chain.example", f"+1202555{tag}000")
    for n in range(1, size):
        phone = f"+1202555{tag}{(n - 1) // 2:03d}" if n % 2 else f"+1202555{tag}{n // 2:03d}"
        record = await identify(repository, US, f"{tag}{(n + 1) // 2}@chain.example", phone)
    assert len(record.cluster.contacts) == size
    return record


async def test_three_spellings_of_one_number_are_one_value(
    small: ContactRepository, driver: AsyncDriver, database: str
) -> None:
    first = await identify(small, US, "doc@hillvalley.edu", "+1 (555) 010-0199")
    national = await identify(small, US, "marty@hillvalley.edu", "555-010-0199")
    digits = await identify(small, US, "jen@hillvalley.edu", "+15550100199")

    assert first.cluster.phone_numbers == ["+15550100199"]
    assert national.cluster.primary.id == digits.cluster.primary.id == first.cluster.primary.id
    assert digits.cluster.phone_numbers == ["+15550100199"]
    # The text as sent stays on the contact, for audit.
    (marty,) = await small.contacts([national.cluster.secondaries[0].id])
    assert (marty.phone_number, marty.phone_number_as_sent) == ("+15550100199", "555-010-0199")
    assert await check_graph(driver, database) == []


async def test_without_a_region_national_numbers_keep_their_digits(
    repository: ContactRepository,
) -> None:
    record = await identify(repository, IdentifierRules(), "doc@hillvalley.edu", "555-010-0199")

    assert record.cluster.phone_numbers == ["5550100199"]
    assert record.cluster.primary.phone_number_as_sent == "555-010-0199"


async def test_a_blocked_phone_shared_by_two_emails_leaves_two_clusters(
    small: ContactRepository, driver: AsyncDriver, database: str
) -> None:
    doc = await identify(small, US, "doc@hillvalley.edu", "0000000000")
    marty = await identify(small, US, "marty@hillvalley.edu", "0000000000")
    again = await identify(small, US, "doc@hillvalley.edu", "0000000000")

    assert doc.cluster.primary.id != marty.cluster.primary.id
    # Recorded on its contact and shown as a value of that contact, linking nobody.
    assert marty.cluster.phone_numbers == ["+10000000000"]
    assert marty.cluster.primary.phone_number_unlinked == "blocked"
    assert marty.warnings == ((IdentityWarning.BLOCKED_IDENTIFIER, "phoneNumber"),)
    # Known by its email, the blocked phone brings nothing new.
    assert again.outcome is IdentifyOutcome.NOTHING_NEW
    assert again.cluster.primary.id == doc.cluster.primary.id
    assert await check_graph(driver, database) == []


async def test_a_blocked_value_alone_starts_a_cluster_each_time(
    small: ContactRepository, driver: AsyncDriver, database: str
) -> None:
    one = await identify(small, US, "test@test.com", None)
    two = await identify(small, US, "Test@Test.com", None)

    assert one.outcome is two.outcome is IdentifyOutcome.CREATED_PRIMARY
    assert one.cluster.primary.id != two.cluster.primary.id
    assert await check_graph(driver, database) == []


async def test_a_blocklist_file_adds_values(
    small: ContactRepository, tmp_path: pytest.TempPathFactory
) -> None:
    listed = tmp_path / "blocklist.txt"  # type: ignore[operator]
    listed.write_text("# shop test accounts\n@qa.example\n/.*\\+fake@.*/\n555 0100 777\n")
    rules = IdentifierRules("US", Blocklist.from_file(listed))

    for email, phone in [
        ("a@qa.example", "+12025550001"),
        ("b@qa.example", "+12025550002"),
        ("x+fake@y.example", "+12025550003"),
        ("y+fake@y.example", "+12025550004"),
    ]:
        record = await identify(small, rules, email, phone)
        assert record.warnings == ((IdentityWarning.BLOCKED_IDENTIFIER, "email"),)
        assert record.outcome is IdentifyOutcome.CREATED_PRIMARY
    shared = [await identify(small, rules, f"p{n}@shop.example", "5550100777") for n in (1, 2)]
    assert shared[0].cluster.primary.id != shared[1].cluster.primary.id


async def test_the_contact_past_the_hub_cap_starts_its_own_cluster(
    small: ContactRepository, driver: AsyncDriver, database: str
) -> None:
    linked = [await identify(small, US, f"n{n}@house.example", "+12025550143") for n in range(3)]
    fourth = await identify(small, US, "n3@house.example", "+12025550143")
    by_phone = await identify(small, US, None, "+12025550143")
    known = await identify(small, US, "n1@house.example", "+12025550143")

    assert len({record.cluster.primary.id for record in linked}) == 1
    assert fourth.outcome is IdentifyOutcome.CREATED_PRIMARY
    assert fourth.cluster.primary.id != linked[0].cluster.primary.id
    assert fourth.warnings == ((IdentityWarning.HUB_IDENTIFIER, "phoneNumber"),)
    assert fourth.cluster.primary.phone_number_unlinked == "hub"
    # A hub alone links nobody; with a known email it answers that email's cluster.
    assert by_phone.outcome is IdentifyOutcome.CREATED_PRIMARY
    assert known.outcome is IdentifyOutcome.NOTHING_NEW
    assert known.cluster.primary.id == linked[0].cluster.primary.id
    records, _, _ = await driver.execute_query(
        "MATCH (p:Phone {value: '+12025550143'}) RETURN p.hub AS hub, "
        "COUNT { (p)<-[:HAS_PHONE]-() } AS holders",
        database_=database,
    )
    assert (records[0]["hub"], records[0]["holders"]) == (True, 3)
    assert await check_graph(driver, database) == []


async def test_a_merge_past_the_cap_is_held_back_then_merged_on_purpose(
    small: ContactRepository, driver: AsyncDriver, database: str
) -> None:
    left = await _chain(small, "1", 6)
    right = await _chain(small, "2", 6)
    bridge_email = left.cluster.emails[0]
    bridge_phone = right.cluster.phone_numbers[-1]

    held = await identify(small, US, bridge_email, bridge_phone, request_id="req-bridge")
    again = await identify(small, US, bridge_email, bridge_phone, request_id="req-again")

    assert held.outcome is again.outcome is IdentifyOutcome.MERGE_HELD_BACK
    assert held.warnings == ((IdentityWarning.MERGE_HELD_BACK, "phoneNumber"),)
    # Answered with its email's cluster, unchanged: nothing merged, nothing created.
    assert held.cluster == left.cluster
    (conflict,) = await small.conflicts(10, None)
    assert (conflict.email_primary_id, conflict.phone_primary_id) == (
        left.cluster.primary.id,
        right.cluster.primary.id,
    )
    assert (conflict.email, conflict.phone_number) == (bridge_email, bridge_phone)
    assert (conflict.request_id, conflict.last_request_id, conflict.requests) == (
        "req-bridge",
        "req-again",
        2,
    )
    assert await check_graph(driver, database) == []

    merged = await small.merge_clusters(right.cluster.secondaries[-1].id, left.cluster.primary.id)

    assert merged is not None
    assert merged.primary.id == left.cluster.primary.id  # the older primary stays
    assert len(merged.contacts) == 12
    assert await small.conflicts(10, None) == []
    assert await check_graph(driver, database) == []


async def test_merging_on_purpose_needs_existing_contacts(small: ContactRepository) -> None:
    record = await identify(small, US, "doc@hillvalley.edu", None)

    assert await small.merge_clusters(record.cluster.primary.id, 999_999) is None
    same = await small.merge_clusters(record.cluster.primary.id, record.cluster.primary.id)
    assert same == record.cluster


async def test_conflicts_come_in_pages(
    small: ContactRepository, driver: AsyncDriver, database: str
) -> None:
    sides = [await _chain(small, str(n), 6) for n in range(1, 4)]
    for one, other in [(0, 1), (0, 2), (1, 2)]:
        await identify(
            small, US, sides[one].cluster.emails[0], sides[other].cluster.phone_numbers[-1]
        )

    first = await small.conflicts(2, None)
    rest = await small.conflicts(2, first[-1].id)
    # The cursor holds when the conflict it names is settled meanwhile.
    await small.merge_clusters(first[-1].email_primary_id, first[-1].phone_primary_id)
    after_settled = await small.conflicts(2, first[-1].id)

    assert len(first) == 2
    assert len(rest) == 1
    assert len({c.id for c in [*first, *rest]}) == 3
    assert [c.id for c in after_settled] == [c.id for c in rest]
    assert await check_graph(driver, database) == []


async def test_a_page_of_contacts_is_read_by_its_ids(small: ContactRepository) -> None:
    record = await _chain(small, "1", 7)
    ids = [member.id for member in record.cluster.contacts]

    page = await small.contacts(ids[2:5])

    assert [contact.id for contact in page] == ids[2:5]
    assert {contact.linked_id for contact in page} == {record.cluster.primary.id}


async def test_hub_race_links_exactly_the_cap(
    small: ContactRepository, driver: AsyncDriver, database: str
) -> None:
    """Twenty sightings of one phone at once: three link through it, every other one starts a
    cluster of its own, whatever the batching and order."""
    records = await asyncio.gather(
        *(identify(small, US, f"r{n}@race.example", "+12025550188") for n in range(20))
    )

    clusters: dict[int, int] = {}
    for record in records:
        clusters[record.cluster.primary.id] = len(record.cluster.contacts)
    assert sorted(clusters.values()) == [1] * 17 + [3]
    assert sum(1 for r in records if r.warnings) == 17
    assert await check_graph(driver, database) == []


async def test_held_back_merge_race_never_passes_the_cap(
    small: ContactRepository, driver: AsyncDriver, database: str
) -> None:
    """Bridges between two clusters near the cap, sent at once with requests growing them:
    no cluster passes the cap through a merge, and a held-back merge has its conflict."""
    left = await _chain(small, "1", 5)
    right = await _chain(small, "2", 5)
    bridges = [
        identify(small, US, left.cluster.emails[n % 3], right.cluster.phone_numbers[n % 3])
        for n in range(6)
    ]
    growth = [
        identify(small, US, f"g{n}@grow.example", left.cluster.phone_numbers[1]) for n in range(2)
    ]
    records = await asyncio.gather(*bridges, *growth)

    held = [r for r in records if r.outcome is IdentifyOutcome.MERGE_HELD_BACK]
    merged = [r for r in records if r.outcome is IdentifyOutcome.MERGED]
    assert held or merged
    conflicts = await small.conflicts(10, None)
    assert len(conflicts) == (1 if held and not merged else 0)
    assert await check_graph(driver, database) == []


async def test_a_large_merge_relinks_in_chunks(driver: AsyncDriver, database: str) -> None:
    repository = ContactRepository(
        driver, database, RepositoryLimits(link=LinkRules(relink_chunk=3))
    )
    left = [await identify(repository, US, f"l{n}@big.example", "+12025550101") for n in range(8)]
    right = [await identify(repository, US, f"r{n}@big.example", "+12025550102") for n in range(8)]

    merged = await identify(repository, US, "l0@big.example", "+12025550102")

    assert merged.outcome is IdentifyOutcome.MERGED
    assert merged.cluster.primary.id == left[0].cluster.primary.id
    assert len(merged.cluster.contacts) == 16
    assert right[-1].cluster.primary.id in [m.id for m in merged.cluster.secondaries]
    assert await check_graph(driver, database) == []
