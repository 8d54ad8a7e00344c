"""The REST shim's documentation page at /docs: Swagger UI reading /openapi.json, served offline.

Swagger UI's scripts come from the project's own pinned npm install (swagger-ui-dist in
resolvers/web_assets/package.json), never from a CDN, so the page works with no internet.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from resolvers.web_assets.server import SWAGGER_UI

ROUTE = SWAGGER_UI.route

# validatorUrl null: Swagger UI would otherwise send the description to validator.swagger.io.
PAGE = f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Identity service: REST API</title>
  <link rel="stylesheet" href="{ROUTE}swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{ROUTE}swagger-ui-bundle.js"></script>
  <script>
    window.ui = SwaggerUIBundle({{
      url: "/openapi.json",
      dom_id: "#swagger-ui",
      validatorUrl: null,
      deepLinking: true,
      docExpansion: "list",
    }});
  </script>
</body>
</html>
"""

MISSING = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>API docs unavailable</title></head>
<body><p>Swagger UI is not installed: run <code>make setup</code> (it needs npm). The
OpenAPI description itself is at <a href="/openapi.json">/openapi.json</a>.</p></body></html>
"""


async def docs_endpoint(_request: Request) -> Response:
    if not SWAGGER_UI.installed():
        # No CDN fallback: a page that silently reached out to the internet would hide the gap.
        return HTMLResponse(MISSING, status_code=503)
    return HTMLResponse(PAGE)
