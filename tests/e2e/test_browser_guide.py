"""The Neo4j Browser guide and style sheet: served with CORS for Browser's origin only, and the
guide's queries run on the real graph."""

from __future__ import annotations

import html
import re

import httpx
from neo4j import AsyncDriver

from graphdb.repository import ContactRepository
from resolvers.http.browser_guide import GUIDE
from resolvers.runtime.settings import Settings

BROWSER = "http://127.0.0.1:7474"


def _runnable_blocks(page: str) -> list[str]:
    blocks = re.findall(r'<pre class="[^"]*\brunnable\b[^"]*">(.*?)</pre>', page, re.S)
    return [html.unescape(block) for block in blocks]


async def test_the_guide_names_the_style_sheet_at_this_service(client: httpx.AsyncClient) -> None:
    guide = await client.get("/neo4j-browser/guide.html")

    assert guide.status_code == 200
    assert guide.headers["content-type"].startswith("text/html")
    assert ":style http://127.0.0.1/neo4j-browser/identity.grass" in _runnable_blocks(guide.text)


async def test_the_style_sheet_captions_contacts_emails_and_phones(
    client: httpx.AsyncClient,
) -> None:
    grass = (await client.get("/neo4j-browser/identity.grass")).text

    assert "caption: '#{id} {linkPrecedence}'" in grass
    assert grass.count("caption: '{value}'") == 2


async def test_browser_may_fetch_the_guide_across_origins(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    # Browser adds these headers, so its fetch of a guide is preflighted.
    preflight = {
        "origin": f"http://localhost:{settings.neo4j_http_port}",
        "access-control-request-method": "GET",
        "access-control-request-headers": "cache-control,pragma",
    }
    allowed = await client.options("/neo4j-browser/guide.html", headers=preflight)
    style = await client.get("/neo4j-browser/identity.grass", headers={"origin": BROWSER})

    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == preflight["origin"]
    assert style.headers["access-control-allow-origin"] == BROWSER


async def test_the_browser_grant_stays_on_the_browser_routes(client: httpx.AsyncClient) -> None:
    guide = await client.get(
        "/neo4j-browser/guide.html", headers={"origin": "https://evil.example"}
    )
    api = await client.post(
        "/identify", json={"email": "doc@hillvalley.edu"}, headers={"origin": BROWSER}
    )

    assert "access-control-allow-origin" not in guide.headers
    assert "access-control-allow-origin" not in api.headers


async def test_every_query_in_the_guide_runs_on_a_real_cluster(
    repository: ContactRepository, driver: AsyncDriver, database: str
) -> None:
    await repository.identify("george@hillvalley.edu", "919191")
    await repository.identify("biffsucks@hillvalley.edu", "717171")
    await repository.identify("george@hillvalley.edu", "717171")
    queries = [block for block in _runnable_blocks(GUIDE) if not block.startswith(":")]
    parameters = {"email": "george@hillvalley.edu", "phone": "717171", "id": 2, "a": 1, "b": 2}

    assert len(queries) == 10
    for query in queries:
        records, _, _ = await driver.execute_query(query, parameters, database_=database)
        assert records, query
