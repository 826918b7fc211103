"""The HTTP service: ``create_app(app)`` builds the FastAPI application for an App."""

from overture.http.factory import create_app

__all__ = ["create_app"]
