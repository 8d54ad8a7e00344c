"""Lineage through the APIs (issue 14), on the SPEC's examples: a cluster's history, explain,
and erasure."""

from __future__ import annotations

import dataclasses
from typing import Any

import httpx
from neo4j import AsyncDriver
from starlette.datastructures import Secret

from graphdb.api_keys import ApiKeyStore
from graphdb.driver import Neo4jConnection
from resolvers.core.access import key_hash, new_key
from resolvers.runtime.log_hash import LogHash
from resolvers.runtime.settings import Settings
from tests.support.app import app_client, graphql_data

HISTORY = """
query History($id: Int!, $first: Int, $after: String) {
  contact(id: $id) {
    primaryContactId
    history(first: $first, after: $after) {
      id at kind requestId contactIds primaryBefore primaryAfter bridge { kind hash }
    }
  }
}
"""


async def _rest(
    client: httpx.AsyncClient, email: str | None, phone: str | None, **headers: str
) -> httpx.Response:
    return await client.post(
        "/identify", json={"email": email, "phoneNumber": phone}, headers=headers
    )


async def _history(client: httpx.AsyncClient, contact_id: int, **page: Any) -> list[Any]:
    data = await graphql_data(client, HISTORY, id=contact_id, **page)
    events: list[Any] = data["contact"]["history"]
    return events


async def test_the_bridge_is_hashed_under_the_ledger_s_key_not_the_logs(
    driver: AsyncDriver, neo4j: Neo4jConnection, settings: Settings
) -> None:
    keys = dataclasses.replace(
        settings, log_hash_key=Secret("the logs' key"), ledger_hash_key=Secret("the ledger's key")
    )
    async with app_client(keys, neo4j) as client:
        await _rest(client, "george@hillvalley.edu", "919191")
        biff = (await _rest(client, "biffsucks@hillvalley.edu", "717171")).json()["contact"]
        await _rest(client, "george@hillvalley.edu", "717171")
        merge = (await _history(client, biff["primaryContatctId"]))[0]

    assert merge["bridge"]["hash"] == LogHash(b"the ledger's key").phone("717171")
    assert merge["bridge"]["hash"] != LogHash(b"the logs' key").phone("717171")


async def test_the_spec_merge_is_in_the_history_of_both_sides(client: httpx.AsyncClient) -> None:
    george = (await _rest(client, "george@hillvalley.edu", "919191")).json()["contact"]
    biff = (await _rest(client, "biffsucks@hillvalley.edu", "717171")).json()["contact"]
    merge = await _rest(client, "george@hillvalley.edu", "717171", **{"X-Request-Id": "merge-1"})
    merged = merge.json()["contact"]

    assert merged["primaryContatctId"] == george["primaryContatctId"]
    winner, loser = george["primaryContatctId"], biff["primaryContatctId"]
    for contact_id in (winner, loser):
        events = await _history(client, contact_id)
        assert [event["kind"] for event in events] == ["MERGED", "CREATED", "CREATED"]
        newest = events[0]
        assert newest["requestId"] == "merge-1"
        assert newest["primaryBefore"] == loser
        assert newest["primaryAfter"] == winner
        assert sorted(newest["contactIds"]) == sorted([winner, loser])
        # The phone brought biff's cluster in: its kind and keyed hash, never the value.
        assert newest["bridge"]["kind"] == "PHONE"
        assert newest["bridge"]["hash"].startswith("phone:")
        assert "717171" not in str(events)
        assert events[0]["at"] >= events[1]["at"] >= events[2]["at"]


async def test_a_new_secondary_is_linked_through_the_value_it_shared(
    client: httpx.AsyncClient,
) -> None:
    first = (await _rest(client, "lorraine@hillvalley.edu", "123456")).json()["contact"]
    second = (await _rest(client, "mcfly@hillvalley.edu", "123456")).json()["contact"]
    (secondary,) = second["secondaryContactIds"]

    events = await _history(client, secondary)

    assert [(e["kind"], e["contactIds"]) for e in events] == [
        ("LINKED", [secondary]),
        ("CREATED", [first["primaryContatctId"]]),
    ]
    assert events[0]["primaryAfter"] == first["primaryContatctId"]
    assert events[0]["bridge"]["kind"] == "PHONE"
    assert events[1]["bridge"] is None


async def test_history_pages_newest_first(client: httpx.AsyncClient) -> None:
    for n in range(5):
        await _rest(client, f"page{n}@hillvalley.edu", "5550100")
    everything = await _history(client, 1, first=100)
    pages: list[Any] = []
    after = None
    while True:
        page = await _history(client, 1, first=2, after=after)
        if not page:
            break
        pages += page
        after = page[-1]["id"]

    assert len(everything) == 5
    assert pages == everything
    assert [e["kind"] for e in everything] == ["LINKED"] * 4 + ["CREATED"]


async def test_an_unknown_cursor_is_refused(client: httpx.AsyncClient) -> None:
    await _rest(client, "doc@hillvalley.edu", None)
    response = await client.post(
        "/graphql", json={"query": HISTORY, "variables": {"id": 1, "after": "no such event"}}
    )
    errors = response.json()["errors"]
    assert errors[0]["extensions"]["code"] == "invalid_arguments"


EXPLAIN = """
query Explain($a: Int!, $b: Int!) {
  explain(a: $a, b: $b) {
    connected
    path { from { contactId email phoneNumber } to { contactId email phoneNumber }
           event { kind requestId contactIds } }
  }
}
"""


def _step(step: dict[str, Any]) -> Any:
    return step["contactId"] or step["email"] or step["phoneNumber"]


async def test_explain_shows_the_chain_through_the_spec_merge(client: httpx.AsyncClient) -> None:
    george = (await _rest(client, "george@hillvalley.edu", "919191")).json()["contact"]
    biff = (await _rest(client, "biffsucks@hillvalley.edu", "717171")).json()["contact"]
    await _rest(client, "george@hillvalley.edu", "717171", **{"X-Request-Id": "merge-1"})
    a, b = george["primaryContatctId"], biff["primaryContatctId"]

    explanation = (await graphql_data(client, EXPLAIN, a=a, b=b))["explain"]

    assert explanation["connected"] is True
    chain = [(_step(link["from"]), _step(link["to"])) for link in explanation["path"]]
    assert chain == [
        (a, "george@hillvalley.edu"),
        ("george@hillvalley.edu", "717171"),
        ("717171", b),
    ]
    events = [link["event"] for link in explanation["path"]]
    assert [event["kind"] for event in events] == ["CREATED", "MERGED", "CREATED"]
    assert events[1]["requestId"] == "merge-1"
    assert events[0]["contactIds"] == [a]
    assert events[2]["contactIds"] == [b]


async def test_explain_for_strangers_and_for_one_contact(client: httpx.AsyncClient) -> None:
    doc = (await _rest(client, "doc@hillvalley.edu", "5550101")).json()["contact"]
    marty = (await _rest(client, "marty@hillvalley.edu", "5550102")).json()["contact"]
    a, b = doc["primaryContatctId"], marty["primaryContatctId"]

    apart = (await graphql_data(client, EXPLAIN, a=a, b=b))["explain"]
    alone = (await graphql_data(client, EXPLAIN, a=a, b=a))["explain"]
    missing = await client.post("/graphql", json={"query": EXPLAIN, "variables": {"a": a, "b": 99}})

    assert apart == {"connected": False, "path": []}
    assert alone == {"connected": True, "path": []}
    assert missing.json()["errors"][0]["extensions"]["code"] == "not_found"


ERASE_IDENTIFIER = """
mutation Erase($email: String, $phoneNumber: String, $dryRun: Boolean!) {
  eraseIdentifier(email: $email, phoneNumber: $phoneNumber, dryRun: $dryRun) {
    dryRun erased { kind hash } contactIds
    clusters { primaryContactId emails phoneNumbers secondaryContactIds }
  }
}
"""
ERASE_CONTACT = """
mutation Erase($id: Int!) {
  eraseContact(id: $id) { contactIds clusters { primaryContactId secondaryContactIds } }
}
"""


async def test_erasure_finds_a_phone_stored_under_earlier_rules(
    driver: AsyncDriver, database: str, neo4j: Neo4jConnection, settings: Settings
) -> None:
    # Sent before PHONE_DEFAULT_REGION was set, the number was kept as its digits; sent again
    # after, it is stored in E.164. Both are the same person's number.
    async with app_client(dataclasses.replace(settings, phone_default_region=None), neo4j) as old:
        await _rest(old, "doc@hillvalley.edu", "555-010-0199")
    async with app_client(dataclasses.replace(settings, phone_default_region="US"), neo4j) as new:
        await _rest(new, "marty@hillvalley.edu", "555-010-0199")
        erase = {"email": None, "phoneNumber": "(555) 010-0199"}
        done = (await graphql_data(new, ERASE_IDENTIFIER, dryRun=False, **erase))["eraseIdentifier"]

    assert len(done["contactIds"]) == 2
    records, _, _ = await driver.execute_query(
        "MATCH (c:Contact) RETURN c.phoneNumber AS phone, c.phoneNumberAsSent AS sent"
        " UNION ALL MATCH (p:Phone) RETURN p.value AS phone, null AS sent",
        database_=database,
    )
    assert [record.data() for record in records] == [{"phone": None, "sent": None}] * 2


async def test_erasing_george_splits_the_spec_merge(client: httpx.AsyncClient) -> None:
    george = (await _rest(client, "george@hillvalley.edu", "919191")).json()["contact"]
    biff = (await _rest(client, "biffsucks@hillvalley.edu", "717171")).json()["contact"]
    await _rest(client, "george@hillvalley.edu", "717171")
    a, b = george["primaryContatctId"], biff["primaryContatctId"]
    erase = {"email": " George@HillValley.edu ", "phoneNumber": None}

    dry = (await graphql_data(client, ERASE_IDENTIFIER, dryRun=True, **erase))["eraseIdentifier"]
    still = (await _rest(client, None, "717171")).json()["contact"]
    done = (await graphql_data(client, ERASE_IDENTIFIER, dryRun=False, **erase))["eraseIdentifier"]

    assert still["primaryContatctId"] == a  # the dry run wrote nothing
    assert dry["dryRun"] is True
    assert {**dry, "dryRun": False} == done
    assert done["erased"][0]["kind"] == "EMAIL"
    assert done["erased"][0]["hash"].startswith("email:")
    assert done["contactIds"] == [a]
    assert done["clusters"] == [
        {
            "primaryContactId": a,
            "emails": [],
            "phoneNumbers": ["919191"],
            "secondaryContactIds": [],
        },
        {
            "primaryContactId": b,
            "emails": ["biffsucks@hillvalley.edu"],
            "phoneNumbers": ["717171"],
            "secondaryContactIds": [],
        },
    ]
    after = (await _rest(client, None, "717171")).json()["contact"]
    assert after["primaryContatctId"] == b
    explained = (await graphql_data(client, EXPLAIN, a=a, b=b))["explain"]
    assert explained == {"connected": False, "path": []}
    assert [e["kind"] for e in await _history(client, b)] == ["SPLIT", "MERGED", "CREATED"]


async def test_erasing_a_contact_takes_it_out_of_its_cluster(client: httpx.AsyncClient) -> None:
    first = (await _rest(client, "lorraine@hillvalley.edu", "123456")).json()["contact"]
    second = (await _rest(client, "mcfly@hillvalley.edu", "123456")).json()["contact"]
    (secondary,) = second["secondaryContactIds"]

    erased = (await graphql_data(client, ERASE_CONTACT, id=secondary))["eraseContact"]
    missing = await client.post("/graphql", json={"query": ERASE_CONTACT, "variables": {"id": 99}})

    # The phone was its too: erased from the first contact as well.
    assert erased["contactIds"] == [first["primaryContatctId"], secondary]
    assert erased["clusters"] == [
        {"primaryContactId": first["primaryContatctId"], "secondaryContactIds": []}
    ]
    answer = (await _rest(client, "lorraine@hillvalley.edu", None)).json()["contact"]
    assert answer["phoneNumbers"] == []
    assert missing.json()["errors"][0]["extensions"]["code"] == "not_found"


async def test_erasure_needs_the_admin_scope(
    driver: AsyncDriver, neo4j: Neo4jConnection, settings: Settings
) -> None:
    store = ApiKeyStore(driver, neo4j.database)
    keys = {name: new_key() for name in ("checkout", "operator")}
    await store.create("checkout", key_hash(keys["checkout"]), ("identify", "read"), None)
    # The answer's emails and phone numbers need read too.
    await store.create("operator", key_hash(keys["operator"]), ("admin", "read"), None)
    erase = {
        "query": ERASE_IDENTIFIER,
        "variables": {"email": "doc@hillvalley.edu", "dryRun": False},
    }
    async with app_client(dataclasses.replace(settings, auth="required"), neo4j) as client:
        made = await client.post(
            "/identify",
            json={"email": "doc@hillvalley.edu"},
            headers={"authorization": f"Bearer {keys['checkout']}"},
        )
        refused = await client.post(
            "/graphql", json=erase, headers={"authorization": f"Bearer {keys['checkout']}"}
        )
        allowed = await client.post(
            "/graphql", json=erase, headers={"authorization": f"Bearer {keys['operator']}"}
        )

    assert made.status_code == 200
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["extensions"]["code"] == "forbidden"
    assert allowed.status_code == 200, allowed.text
    assert allowed.json()["data"]["eraseIdentifier"]["contactIds"] == [1]
