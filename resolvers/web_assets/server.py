"""GraphiQL with its scripts served by the service from the project's own npm install, not a CDN.

Strawberry's page loads React and GraphiQL from unpkg, which a machine without internet cannot
reach. `make run`/`make test` install the same pinned versions (resolvers/web_assets/package.json);
the page keeps its integrity hashes, so the browser checks our copies are the same bytes.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response

MODULES = Path(__file__).resolve().parent / "node_modules"
CDN = "https://unpkg.com/"
ROUTE = "/graphql-assets/"

# The unpkg paths strawberry's page names, and where npm puts the same files.
ASSETS = {
    "react@18.2.0/umd/react.production.min.js": "react/umd/react.production.min.js",
    "react-dom@18.2.0/umd/react-dom.production.min.js": "react-dom/umd/react-dom.production.min.js",
    "js-cookie@3.0.5/dist/js.cookie.min.js": "js-cookie/dist/js.cookie.min.js",
    "graphiql@3.8.3/graphiql.min.css": "graphiql/graphiql.min.css",
    "graphiql@3.8.3/graphiql.min.js": "graphiql/graphiql.min.js",
    "@graphiql/plugin-explorer@1.0.2/dist/style.css": "@graphiql/plugin-explorer/dist/style.css",
    "@graphiql/plugin-explorer@1.0.2/dist/index.umd.js": (
        "@graphiql/plugin-explorer/dist/index.umd.js"
    ),
}


def installed() -> bool:
    return all((MODULES / path).is_file() for path in ASSETS.values())


def local_page(page: str) -> str:
    """The page with every CDN address replaced by this service's own."""
    for cdn_path in ASSETS:
        page = page.replace(CDN + cdn_path, ROUTE + cdn_path)
    return page


async def asset_endpoint(request: Request) -> Response:
    path = ASSETS.get(request.path_params["name"])
    if path is None:
        return PlainTextResponse("Not found", status_code=404)
    return FileResponse(MODULES / path, headers={"Cache-Control": "public, max-age=86400"})
