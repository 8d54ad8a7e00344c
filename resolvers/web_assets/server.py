"""The pages' scripts served by the service from the project's own npm install, never a CDN.

GraphiQL (/graphql) and Swagger UI (/docs) need scripts that a machine without internet cannot
fetch from a CDN. `make run` and `make test` install pinned versions (package.json and its lock
beside this module); one server hands out exactly the files each page names, and nothing else
under node_modules.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response

MODULES = Path(__file__).resolve().parent / "node_modules"
CDN = "https://unpkg.com/"


@dataclass(frozen=True)
class AssetServer:
    """The files one page may load, by the name it asks for under `route`, from node_modules."""

    route: str
    files: dict[str, str]

    def installed(self) -> bool:
        return all((MODULES / path).is_file() for path in self.files.values())

    async def endpoint(self, request: Request) -> Response:
        path = self.files.get(request.path_params["name"])
        if path is None:
            return PlainTextResponse("Not found", status_code=404)
        return FileResponse(MODULES / path, headers={"Cache-Control": "public, max-age=86400"})


# Strawberry's GraphiQL page names these unpkg paths; npm puts the same files here. The page keeps
# its integrity hashes, so the browser checks our copies are the same bytes.
GRAPHIQL = AssetServer(
    "/graphql-assets/",
    {
        "react@18.2.0/umd/react.production.min.js": "react/umd/react.production.min.js",
        "react-dom@18.2.0/umd/react-dom.production.min.js": (
            "react-dom/umd/react-dom.production.min.js"
        ),
        "js-cookie@3.0.5/dist/js.cookie.min.js": "js-cookie/dist/js.cookie.min.js",
        "graphiql@3.8.3/graphiql.min.css": "graphiql/graphiql.min.css",
        "graphiql@3.8.3/graphiql.min.js": "graphiql/graphiql.min.js",
        "@graphiql/plugin-explorer@1.0.2/dist/style.css": (
            "@graphiql/plugin-explorer/dist/style.css"
        ),
        "@graphiql/plugin-explorer@1.0.2/dist/index.umd.js": (
            "@graphiql/plugin-explorer/dist/index.umd.js"
        ),
    },
)

# The API docs page at /docs (resolvers/http/api_docs.py).
SWAGGER_UI = AssetServer(
    "/docs-assets/",
    {
        "swagger-ui.css": "swagger-ui-dist/swagger-ui.css",
        "swagger-ui-bundle.js": "swagger-ui-dist/swagger-ui-bundle.js",
    },
)


def local_graphiql_page(page: str) -> str:
    """Strawberry's GraphiQL page with every CDN address replaced by this service's own."""
    for cdn_path in GRAPHIQL.files:
        page = page.replace(CDN + cdn_path, GRAPHIQL.route + cdn_path)
    return page
