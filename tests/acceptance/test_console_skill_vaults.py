"""Console skill sessions on a shared deployment, over real HTTP against uvicorn: each person
works in their own vault (``OVERTURE_VAULT=…/{user}``), a person without one is told so, and a
model session's calls land in the org's cost ledger and stop at the org's AI budget."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from pydantic import SecretStr

from overture.app import App
from overture.clock import SystemClock
from overture.engine.admin.tokens import Tokens
from overture.settings import Settings
from overture.skills.environment import ENV_CALENDAR, ENV_TIMEZONE, ENV_VAULT
from overture.skills.step import register_prose_skills
from overture.storage.tables.orchestrator import cost_ledger
from tests.acceptance.test_http_server import served
from tests.approvals_app import make
from tests.fake_models import serve
from tests.integration.test_skill_model_sessions import script

DATA = Path(__file__).resolve().parents[1] / "data" / "vaults"
SKILLS = DATA / "periodic-skills"


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (ENV_VAULT, ENV_CALENDAR, ENV_TIMEZONE):
        monkeypatch.delenv(name, raising=False)


@contextmanager
def serving(tmp_path: Path, settings: Settings, vault: str) -> Iterator[tuple[App, str]]:
    app = make(f"sqlite:///{tmp_path / 'overture.db'}", SystemClock(), None)
    app.admin.add_user("acme", "robin", "Robin", timezone="Europe/Berlin", email="robin@acme.test")
    register_prose_skills(app.registry, SKILLS, settings, vault=vault)
    try:
        with served(app) as base:
            yield app, base
    finally:
        app.close()


def _field(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]+)"', html)
    assert found is not None, f"no {name} field on the page"
    return found.group(1)


@contextmanager
def signed_in(app: App, base: str, user: str) -> Iterator[httpx.Client]:
    secret = Tokens(app.store, app.clock).create("acme", user).secret
    with httpx.Client(base_url=base, timeout=30) as http:
        form = http.get("/signin")
        signin = {"token": secret, "nonce": _field(form.text, "nonce")}
        assert http.post("/signin", data=signin).status_code == 303
        yield http


def start(http: httpx.Client, skill: str) -> httpx.Response:
    csrf = _field(http.get("/skills").text, "csrf")
    form = {"csrf": csrf, "date": "2026-12-01"}
    return http.post(f"/skills/{skill}/start", data=form, follow_redirects=True)


def answer_until_over(http: httpx.Client, page: httpx.Response, answers: dict[str, str]) -> str:
    """Answer each question (by a word in it; else the offered answer) until the session ends."""
    for _ in range(40):
        if "Session over" in page.text or "The session failed" in page.text:
            return page.text
        question = re.search(r'id="question">([^<]*)<', page.text)
        asked = question.group(1) if question else ""
        text = next((a for key, a in answers.items() if key in asked), "")
        page = http.post(
            f"{page.url.path}/answer",
            data={"csrf": _field(page.text, "csrf"), "text": text, "action": "send"},
            follow_redirects=True,
        )
    raise AssertionError("the session did not end")


def test_each_person_plans_in_their_own_vault(tmp_path: Path) -> None:
    vaults = tmp_path / "vaults"
    shutil.copytree(DATA / "periodic", vaults / "robin")
    shutil.copytree(DATA / "periodic", vaults / "ana")
    before = _snapshot(vaults / "ana")
    with serving(tmp_path, Settings(llm_provider="offline"), str(vaults / "{user}")) as (app, base):
        with signed_in(app, base, "robin") as http:
            page = start(http, "planning-daily")
            assert page.status_code == 200 and "/skills/sessions/" in page.url.path
            text = answer_until_over(http, page, {"priorities": "2; Book the retro room"})
            assert "Session over: Complete" in text
        with signed_in(app, base, "eve") as http:
            refused = start(http, "planning-daily")
            assert refused.status_code == 409
            assert "You have no vault here yet" in refused.text
            assert not (vaults / "eve").exists()
    assert "- [ ] Book the retro room" in (vaults / "robin" / "Captive" / "Today.md").read_text()
    assert _snapshot(vaults / "ana") == before


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _ledger(app: App) -> list[dict[str, object]]:
    with app.store.read() as conn:
        return [dict(r) for r in conn.execute(sa.select(cost_ledger)).mappings()]


@contextmanager
def model_serving(tmp_path: Path) -> Iterator[tuple[App, str]]:
    api, _model = serve("openai", script("planning-daily"))
    with api:
        settings = Settings(
            llm_provider="openai",
            llm_model="gpt-4o",
            llm_api_key=SecretStr("sk-test"),
            llm_base_url=f"{api.url}/v1",
        )
        vault = tmp_path / "vault"
        shutil.copytree(DATA / "periodic", vault)
        with serving(tmp_path, settings, str(vault)) as running:
            yield running


def test_a_model_session_is_billed_to_the_org(tmp_path: Path) -> None:
    with model_serving(tmp_path) as (app, base), signed_in(app, base, "robin") as http:
        text = answer_until_over(http, start(http, "planning-daily"), {"Your answer": "The cutover sign-off"})
        assert "Session over: Complete" in text
        rows = _ledger(app)
    assert len(rows) == 4  # one row per model turn, as the fake answered four times
    assert {(r["org_id"], r["job_id"], r["step_index"]) for r in rows} == {("acme", None, None)}
    assert all(r["input_tokens"] == 1000 and r["output_tokens"] == 60 for r in rows)
    assert all(int(str(r["cost_micros"])) > 0 for r in rows)


def test_a_model_session_stops_at_the_orgs_budget(tmp_path: Path) -> None:
    with model_serving(tmp_path) as (app, base), signed_in(app, base, "robin") as http:
        app.admin.set_budget("acme", "day", 0.000001)  # one turn spends it
        text = answer_until_over(http, start(http, "planning-daily"), {"Your answer": "The cutover sign-off"})
        assert "stopped before the next turn: the org&#39;s day AI budget is spent" in text
        assert len(_ledger(app)) == 1
