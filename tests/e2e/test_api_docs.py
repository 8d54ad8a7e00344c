"""The docs page at /docs is Swagger UI with its scripts from the service itself, not a CDN."""

from __future__ import annotations

import re

import httpx


async def test_docs_page_loads_every_asset_from_the_service(client: httpx.AsyncClient) -> None:
    page = await client.get("/docs")

    assert page.status_code == 200
    assert '"/openapi.json"' in page.text
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sorted(assets) == ["/docs-assets/swagger-ui-bundle.js", "/docs-assets/swagger-ui.css"]
    for path in assets:
        asset = await client.get(path)
        assert asset.status_code == 200, path
        assert len(asset.content) > 10_000, path


async def test_docs_page_never_calls_the_online_validator(client: httpx.AsyncClient) -> None:
    page = await client.get("/docs")

    assert "validatorUrl: null" in page.text


async def test_only_the_named_docs_assets_are_served(client: httpx.AsyncClient) -> None:
    response = await client.get("/docs-assets/swagger-ui-dist/package.json")

    assert response.status_code == 404
