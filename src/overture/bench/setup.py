"""An App on the bench pack, with an org, a user and an API token of the bench's own."""

from __future__ import annotations

import time
from dataclasses import dataclass

from overture.app import App
from overture.engine.registry import Registry
from overture.settings import Settings


@dataclass(frozen=True)
class Tenant:
    """Who the bench's events are for, and the token that sends them over HTTP."""

    org: str
    user: str
    token: str


def bench_app(url: str, registry: Registry) -> App:
    app = App(Settings(database_url=url, packs=[]), registry=registry)
    app.migrate()
    return app


def new_tenant(app: App) -> Tenant:
    """A fresh org (so runs on one database never see each other's dedupe or queue)."""
    org = f"bench{time.time_ns()}"
    user = f"{org}-u"
    app.admin.add_org(org, "Bench")
    app.admin.add_user(org, user, "Bench", active_hours=None)
    token = app.tokens.create(org, user, name="bench").secret
    return Tenant(org, user, token)
