"""The interactive API reference at ``/docs``: Swagger UI, served by Overture itself.

Its script and stylesheet come from the ``swagger-ui-bundle-v2`` package (Swagger UI's own
release files, Apache-2.0) and its start-up script from this package, so the page works on a
machine without Internet access and asks nothing of any other host: the Content-Security-Policy
allows only this origin (inline styles aside, which Swagger UI sets on its elements).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse, Response
from swagger_ui_bundle import swagger_ui_path

router = APIRouter(include_in_schema=False)

_OURS = Path(__file__).parent / "static"
#: The only files served under /docs/assets/, with their types and where they are.
ASSETS: dict[str, tuple[str, Path]] = {
    "swagger-ui-bundle.js": ("text/javascript; charset=utf-8", Path(str(swagger_ui_path))),
    "swagger-ui.css": ("text/css; charset=utf-8", Path(str(swagger_ui_path))),
    "favicon-32x32.png": ("image/png", Path(str(swagger_ui_path))),
    "swagger-init.js": ("text/javascript; charset=utf-8", _OURS),
}
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Overture API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
<link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png">
<script src="/docs/assets/swagger-ui-bundle.js" defer></script>
<script src="/docs/assets/swagger-init.js" defer></script>
</head>
<body>
<div id="swagger-ui" data-openapi="/openapi.json"></div>
</body>
</html>
"""


@router.get("/docs")
def docs() -> HTMLResponse:
    """Swagger UI for ``/openapi.json``."""
    return HTMLResponse(_PAGE, headers={"Content-Security-Policy": CSP, "Cache-Control": "no-store"})


@router.get("/docs/assets/{name}")
def asset(name: str) -> Response:
    """One of Swagger UI's files (nothing else is served from here)."""
    if name not in ASSETS:
        return Response(status_code=404)
    media_type, folder = ASSETS[name]
    cache = {"Cache-Control": "public, max-age=86400"}
    return FileResponse(folder / name, media_type=media_type, headers=cache)
