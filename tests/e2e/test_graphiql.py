"""GraphiQL's page is served with its scripts from the service itself, byte-identical to the
versions it names (the page's integrity hashes prove it), so it works with no internet."""

from __future__ import annotations

import base64
import hashlib
import re

import httpx


async def test_graphiql_loads_every_script_from_the_service(client: httpx.AsyncClient) -> None:
    page = await client.get("/graphql", headers={"accept": "text/html"})

    assert page.status_code == 200
    assert "unpkg.com" not in page.text
    assets = re.findall(
        r'(?:src|href)="(/graphql-assets/[^"]+)"\s+integrity="sha384-([^"]+)"', page.text
    )
    assert len(assets) == 7
    for path, digest in assets:
        asset = await client.get(path)
        assert asset.status_code == 200, path
        assert base64.b64encode(hashlib.sha384(asset.content).digest()).decode() == digest, path


async def test_only_the_named_assets_are_served(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql-assets/graphiql/package.json")

    assert response.status_code == 404
