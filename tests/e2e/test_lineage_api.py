"""Lineage through the APIs: a cluster's history (issue 14), on the SPEC's examples."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.app import graphql_data

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
