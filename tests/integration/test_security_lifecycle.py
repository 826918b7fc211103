"""Finding 6, on both backends: `overture users remove` and `overture orgs remove` (soft deletes)
revoke every token and console session of theirs at once, expire their pending actions with the
reason recorded and stop their queued jobs; a token whose user or org is gone, removed or deleted
outright, is refused on every /v1 route."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from typing import Any

import click
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from overture.app import App
from overture.cli import admin as admin_cli
from overture.cli.common import CliState
from overture.core.records import ActionStatus, JobStatus
from overture.http import create_app
from overture.storage.queries import approvals as actionq
from overture.storage.queries import jobs as jobq
from overture.storage.queries.integrations import user_by_slack_id
from overture.storage.tables.orchestrator import audit_log, users
from tests.conftest import event
from tests.integration.test_console import Session
from tests.integration.test_http_api import Client, in_process, issue, paused


@click.group()
@click.option("--db", "database_url", required=True)
@click.pass_context
def cli(ctx: click.Context, database_url: str) -> None:
    """The `overture` group with only the admin commands."""
    ctx.obj = CliState(overrides={"database_url": database_url, "packs": []})
    ctx.call_on_close(ctx.obj.close)


admin_cli.register(cli)


def run(app: App, *args: str) -> Any:
    url = app.store.engine.url.render_as_string(hide_password=False).replace("+psycopg", "")
    return CliRunner().invoke(cli, ["--db", url, *args])


@pytest.fixture
def api(app: App) -> Iterator[Client]:
    # These tests try a revoked token on every /v1 route (about 40 failures in a row); the
    # throttle, tested on its own, would answer the later ones 429 instead of 401.
    app.settings.auth_failures_per_address = "10000/minute"
    app.settings.auth_failures_per_token = "10000/minute"
    with in_process(app) as client:
        yield client


def v1_routes(app: App) -> list[tuple[str, str]]:
    """Every /v1 operation, with a made-up id in each path parameter."""
    document = create_app(app).openapi()
    found = []
    for path, item in document["paths"].items():
        if path.startswith("/v1/"):
            concrete = re.sub(r"\{[^}]+\}", "1", path)
            found.extend((method.upper(), concrete) for method in item)
    return found


def refused_everywhere(app: App, api: Client, headers: dict[str, str]) -> list[str]:
    """The /v1 routes that did not answer 401 to ``headers``."""
    body = {"content": b"{}", "headers": {**headers, "Content-Type": "application/json"}}
    wrong = []
    for method, path in v1_routes(app):
        response = api.request(method, path, **body)
        if response.status_code != 401:
            wrong.append(f"{method} {path}: {response.status_code}")
    return wrong


def test_removing_a_user_revokes_their_tokens_and_session_and_expires_their_actions(
    app: App, api: Client
) -> None:
    """Ana's API token and console session stop working at once, on every route; her pending
    action expires with the reason; her queued job is cancelled; Eve's token still works."""
    ana, eve = issue(app, "acme", "ana"), issue(app, "acme", "eve")
    console = Session(app, api, "ana")
    job_id, action_id = paused(api, app, ana)
    queued = app.emit(event("five_steps", user="ana")).job_id
    assert "Waiting for you" in console.get("/").text

    result = run(app, "users", "remove", "ana", "--org", "acme", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report == {
        "org_id": "acme",
        "user_id": "ana",
        "tokens_revoked": 1,
        "actions_expired": 1,
        "jobs_cancelled": 1,
        "sessions_ended": 1,
    }
    assert refused_everywhere(app, api, ana) == []
    assert console.get("/").headers["location"] == "/signin"
    assert api.get("/v1/jobs", headers=eve).status_code == 200
    with app.store.read() as conn:
        action = actionq.get_action(conn, action_id)
        job, other = jobq.get_job(conn, job_id), jobq.get_job(conn, str(queued))
        reasons = set(conn.execute(sa.select(audit_log.c.reason)).scalars())
    assert action is not None and action.status == ActionStatus.EXPIRED
    assert action.decided_via == "user_removed"
    assert job is not None and job.status == JobStatus.EXPIRED
    assert job.status_reason == "its user ana was removed"
    assert other is not None and other.status == JobStatus.CANCELLED
    assert "user_removed" in reasons
    listed = run(app, "users", "remove", "ana", "--org", "acme")
    assert listed.exit_code != 0 and "no user 'ana' in org 'acme'" in listed.output


def test_removing_an_org_revokes_every_token_of_it(app: App, api: Client) -> None:
    """The org's own token, its users' tokens and sessions: all 401; its pending actions expire;
    events for it are rejected; an admin token no longer lists it."""
    org, ana, admin = issue(app, "acme"), issue(app, "acme", "ana"), issue(app, None, admin=True)
    _, action_id = paused(api, app, ana)
    result = run(app, "orgs", "remove", "acme")
    assert result.exit_code == 0, result.output
    assert "org acme removed: 2 token(s) revoked, 1 pending action(s) expired" in result.output
    for headers in (org, ana):
        assert refused_everywhere(app, api, headers) == []
    assert api.get("/v1/orgs", headers=admin).json()["items"] == []
    sent = api.post("/v1/events", json=event("five_steps"), headers=admin).json()
    assert (sent["status"], sent["reason"]) == ("rejected", "org_not_found")
    with app.store.read() as conn:
        action = actionq.get_action(conn, action_id)
    assert action is not None and action.status == ActionStatus.EXPIRED
    assert action.decided_via == "org_removed"


def test_a_token_whose_user_was_deleted_outright_is_refused_everywhere(app: App, api: Client) -> None:
    """The row is gone (on SQLite nothing stopped the delete): the token is refused on every route."""
    eve = issue(app, "acme", "eve")
    assert api.get("/v1/jobs", headers=eve).status_code == 200
    if app.store.engine.dialect.name == "sqlite":  # another client, foreign keys off (the default)
        with closing(sqlite3.connect(str(app.store.engine.url.database))) as raw, raw:
            raw.execute("DELETE FROM users WHERE id = 'eve'")
    else:
        with app.store.write() as conn:
            conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
            conn.execute(sa.delete(users).where(users.c.id == "eve"))
    assert refused_everywhere(app, api, eve) == []
    assert "user eve is gone" in api.get("/v1/jobs", headers=eve).json()["detail"]


def test_a_removed_id_is_not_taken_again_by_accident(app: App) -> None:
    """Adding a user with a removed user's id says so instead of failing in the database."""
    assert run(app, "users", "remove", "eve", "--org", "acme").exit_code == 0
    again = run(app, "users", "add", "eve", "--org", "acme")
    assert again.exit_code != 0 and "user 'eve' was removed" in again.output


def test_a_removed_user_is_no_one_on_slack(app: App) -> None:
    """A removed admin's Slack account no longer names a user who may decide (button clicks are
    matched to users by their Slack id)."""
    app.admin.add_user("acme", "sue", "Sue", active_hours=None, role="admin", slack_user_id="U_SUE")
    with app.store.read() as conn:
        assert user_by_slack_id(conn, "acme", "U_SUE") is not None
    assert run(app, "users", "remove", "sue", "--org", "acme").exit_code == 0
    with app.store.read() as conn:
        assert user_by_slack_id(conn, "acme", "U_SUE") is None
