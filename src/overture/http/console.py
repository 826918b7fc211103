"""The web console at ``/``: a placeholder page until the console (jobs, chains, inbox) lands."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from overture import __version__

router = APIRouter(include_in_schema=False)

_PAGE = f"""<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Overture</title></head>
<body>
<h1>Overture {__version__}</h1>
<p>The console is coming: jobs, chains and the approval inbox will live here.</p>
<p>Meanwhile: the API is described at <a href="/openapi.json">/openapi.json</a>
(<a href="/docs">browsable</a>); health at <a href="/healthz">/healthz</a> and
<a href="/readyz">/readyz</a>; metrics at <a href="/metrics">/metrics</a>.</p>
</body>
</html>
"""


@router.get("/", response_class=HTMLResponse)
async def home() -> str:
    """A small page saying the console is coming, with links to what exists."""
    return _PAGE
