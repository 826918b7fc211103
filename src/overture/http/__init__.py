"""The HTTP service: ``create_app(app)`` builds the FastAPI application for an App.

``create_app`` is loaded on first use, so that the wire models (``overture.http.api.models``),
which the Python client shares, can be imported without the web framework.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from overture.http.factory import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from overture.http.factory import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
