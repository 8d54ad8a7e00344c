"""Neo4j Browser's cluster guide (`:play`) and style sheet (`:style`), served by the service.

Neo4j Browser fetches both from its own page, so they need CORS: only Neo4j Browser's origins may
read them, and that grant stays on these routes (middleware/scoped_cors.py); the API keeps its
own, closed by default.
"""

from __future__ import annotations

import html
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from resolvers.runtime.settings import Settings

PREFIX = "/neo4j-browser/"
BROWSER_FILES = Path(__file__).resolve().parents[2] / "graphdb" / "browser"
GUIDE = (BROWSER_FILES / "guide.html").read_text()
GRASS = (BROWSER_FILES / "identity.grass").read_text()
SERVICE_PLACEHOLDER = "{{SERVICE}}"


def browser_origins(settings: Settings) -> tuple[str, ...]:
    """The local Neo4j Browser, by either name, and whatever origins CORS_ALLOW_ORIGINS adds."""
    port = settings.neo4j_http_port
    local = (f"http://127.0.0.1:{port}", f"http://localhost:{port}")
    return local + tuple(o for o in settings.cors_allow_origins if o not in local)


async def guide_endpoint(request: Request) -> Response:
    # The guide names the style sheet by an absolute URL: Browser resolves links on its own origin.
    service = html.escape(str(request.base_url).rstrip("/"), quote=True)
    return HTMLResponse(GUIDE.replace(SERVICE_PLACEHOLDER, service))


async def style_endpoint(_request: Request) -> Response:
    return Response(GRASS, media_type="text/plain; charset=utf-8")
