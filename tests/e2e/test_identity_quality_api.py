"""Identity quality through the APIs, with the issue's limits: PHONE_DEFAULT_REGION=US,
MAX_CONTACTS_PER_IDENTIFIER=3, MAX_CLUSTER_CONTACTS=10. Warnings, conflicts and mergeClusters
in GraphQL; the REST answer in its legacy shape; pages of contacts."""

from __future__ import annotations

import dataclasses
from typing import Any

import httpx
import pytest
from neo4j import AsyncDriver

from graphdb.api_keys import ApiKeyStore
from graphdb.driver import Neo4jConnection
from resolvers.core.access import key_hash, new_key
from resolvers.runtime.settings import Settings
from tests.support.app import app_client, graphql_data

IDENTIFY = """
mutation Identify($input: IdentifyInput!) {
  identify(input: $input) {
    __typename
    ... on Identity {
      primaryContactId emails phoneNumbers secondaryContactIds contactCount
      warnings { code field }
    }
  }
}
"""
CONFLICTS = """
query Conflicts($first: Int, $after: String) {
  conflicts(first: $first, after: $after) {
    id emailPrimaryContactId phonePrimaryContactId email phoneNumber requests
  }
}
"""
MERGE = (
    "mutation($a: Int!, $b: Int!) { mergeClusters(a: $a, b: $b) { primaryContactId contactCount } }"
)
PAGE = """
query Page($id: Int!, $first: Int, $after: Int) {
  contact(id: $id) {
    contactCount
    contacts(first: $first, after: $after) { id phoneNumber phoneNumberAsSent phoneNumberUnlinked }
  }
}
"""


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(
        settings,
        phone_default_region="US",
        max_contacts_per_identifier=3,
        max_cluster_contacts=10,
    )


async def _identify(
    client: httpx.AsyncClient, email: str | None, phone: str | None
) -> dict[str, Any]:
    data = await graphql_data(client, IDENTIFY, input={"email": email, "phoneNumber": phone})
    identity: dict[str, Any] = data["identify"]
    return identity


async def _chain(client: httpx.AsyncClient, tag: str) -> dict[str, Any]:
    """Six contacts in one cluster, no value on more than two of them."""
    identity = await _identify(client, f"{tag}0@chain.example", f"+1202555{tag}000")
    for n in range(1, 6):
        phone_index = (n - 1) // 2 if n % 2 else n // 2
        identity = await _identify(
            client, f"{tag}{(n + 1) // 2}@chain.example", f"+1202555{tag}{phone_index:03d}"
        )
    assert identity["contactCount"] == 6
    return identity


async def test_the_three_spellings_cluster_together(client: httpx.AsyncClient) -> None:
    spellings = ["+1 (555) 010-0199", "555-010-0199", "+15550100199"]
    answers = [
        await _identify(client, f"s{n}@hillvalley.edu", phone) for n, phone in enumerate(spellings)
    ]

    assert {answer["primaryContactId"] for answer in answers} == {answers[0]["primaryContactId"]}
    assert answers[-1]["phoneNumbers"] == ["+15550100199"]
    assert answers[-1]["contactCount"] == 3
    page = await graphql_data(client, PAGE, id=answers[0]["primaryContactId"])
    assert [c["phoneNumberAsSent"] for c in page["contact"]["contacts"]] == [
        "+1 (555) 010-0199",
        "555-010-0199",
        None,
    ]


async def test_a_blocked_phone_shared_by_two_emails_leaves_two_clusters(
    client: httpx.AsyncClient,
) -> None:
    doc = await _identify(client, "doc@hillvalley.edu", "0000000000")
    marty = await _identify(client, "marty@hillvalley.edu", "0000000000")

    assert doc["primaryContactId"] != marty["primaryContactId"]
    assert marty["warnings"] == [{"code": "BLOCKED_IDENTIFIER", "field": "phoneNumber"}]
    assert marty["phoneNumbers"] == ["+10000000000"]


async def test_the_fourth_contact_on_one_phone_starts_its_own_cluster(
    client: httpx.AsyncClient,
) -> None:
    first = [await _identify(client, f"h{n}@house.example", "202-555-0143") for n in range(3)]
    fourth = await _identify(client, "h3@house.example", "202-555-0143")

    assert first[-1]["contactCount"] == 3
    assert fourth["primaryContactId"] != first[0]["primaryContactId"]
    assert fourth["contactCount"] == 1
    assert fourth["warnings"] == [{"code": "HUB_IDENTIFIER", "field": "phoneNumber"}]
    page = await graphql_data(client, PAGE, id=fourth["primaryContactId"])
    assert page["contact"]["contacts"][0]["phoneNumberUnlinked"] == "hub"


async def test_a_merge_past_ten_is_held_back_listed_and_merged_on_purpose(
    client: httpx.AsyncClient,
) -> None:
    left = await _chain(client, "1")
    right = await _chain(client, "2")

    held = await _identify(client, left["emails"][0], right["phoneNumbers"][-1])
    rest = await client.post(
        "/identify", json={"email": left["emails"][0], "phoneNumber": right["phoneNumbers"][-1]}
    )

    assert held["warnings"] == [{"code": "MERGE_HELD_BACK", "field": "phoneNumber"}]
    assert held["primaryContactId"] == left["primaryContactId"]
    assert held["contactCount"] == 6
    # The REST answer keeps its legacy shape: the email's cluster, no warnings.
    assert rest.status_code == 200
    assert rest.json() == {
        "contact": {
            "primaryContatctId": left["primaryContactId"],
            "emails": left["emails"],
            "phoneNumbers": left["phoneNumbers"],
            "secondaryContactIds": left["secondaryContactIds"],
        }
    }
    (conflict,) = (await graphql_data(client, CONFLICTS, first=10))["conflicts"]
    assert conflict["emailPrimaryContactId"] == left["primaryContactId"]
    assert conflict["phonePrimaryContactId"] == right["primaryContactId"]
    assert conflict["requests"] == 2

    merged = await graphql_data(
        client, MERGE, a=left["primaryContactId"], b=right["primaryContactId"]
    )

    assert merged["mergeClusters"] == {
        "primaryContactId": left["primaryContactId"],
        "contactCount": 12,
    }
    assert (await graphql_data(client, CONFLICTS, first=10))["conflicts"] == []


async def test_contacts_come_in_pages_after_a_contact_id(client: httpx.AsyncClient) -> None:
    cluster = await _chain(client, "3")
    ids = [cluster["primaryContactId"], *cluster["secondaryContactIds"]]

    first = await graphql_data(client, PAGE, id=ids[0], first=4)
    rest = await graphql_data(client, PAGE, id=ids[0], first=4, after=ids[3])

    assert first["contact"]["contactCount"] == 6
    assert [c["id"] for c in first["contact"]["contacts"]] == ids[:4]
    assert [c["id"] for c in rest["contact"]["contacts"]] == ids[4:]


@pytest.mark.parametrize(("first", "after"), [(0, None), (1001, None), (10, 999_999)])
async def test_a_page_out_of_bounds_is_refused(
    client: httpx.AsyncClient, first: int, after: int | None
) -> None:
    cluster = await _identify(client, "page@hillvalley.edu", None)
    response = await client.post(
        "/graphql",
        json={
            "query": PAGE,
            "variables": {"id": cluster["primaryContactId"], "first": first, "after": after},
        },
    )

    errors = response.json()["errors"]
    assert [error["extensions"]["code"] for error in errors] == ["invalid_arguments"]


async def test_merging_an_unknown_contact_is_not_found(client: httpx.AsyncClient) -> None:
    cluster = await _identify(client, "known@hillvalley.edu", None)
    response = await client.post(
        "/graphql",
        json={"query": MERGE, "variables": {"a": cluster["primaryContactId"], "b": 999_999}},
    )

    assert response.json()["errors"][0]["extensions"]["code"] == "not_found"


async def test_conflicts_and_merging_need_the_admin_scope(
    driver: AsyncDriver, neo4j: Neo4jConnection, settings: Settings
) -> None:
    store = ApiKeyStore(driver, neo4j.database)
    keys = {name: new_key() for name in ("checkout", "operator")}
    await store.create("checkout", key_hash(keys["checkout"]), ("identify", "read"), None)
    await store.create("operator", key_hash(keys["operator"]), ("admin",), None)
    async with app_client(dataclasses.replace(settings, auth="required"), neo4j) as client:

        async def call(key: str, query: str, **variables: Any) -> httpx.Response:
            return await client.post(
                "/graphql",
                json={"query": query, "variables": variables},
                headers={"authorization": f"Bearer {keys[key]}"},
            )

        made = await call("checkout", IDENTIFY, input={"email": "doc@hillvalley.edu"})
        contact_id = made.json()["data"]["identify"]["primaryContactId"]
        refused = [
            await call("checkout", CONFLICTS, first=5),
            await call("checkout", MERGE, a=contact_id, b=contact_id),
        ]
        allowed = [
            await call("operator", CONFLICTS, first=5),
            await call("operator", MERGE, a=contact_id, b=contact_id),
        ]

    assert [r.status_code for r in refused] == [403, 403]
    assert all(r.json()["errors"][0]["extensions"]["code"] == "forbidden" for r in refused)
    assert [r.status_code for r in allowed] == [200, 200]
    assert allowed[0].json()["data"] == {"conflicts": []}
    assert allowed[1].json()["data"]["mergeClusters"] == {
        "primaryContactId": contact_id,
        "contactCount": 1,
    }
