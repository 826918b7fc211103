"""Testing a pack: a real App on a throwaway SQLite file with only that pack loaded.

    def test_reply_waits_for_approval(tmp_path: Path) -> None:
        with PackHarness(Path(__file__).parent, tmp_path) as pack:
            job_id = pack.emit("contact_request", {"email": "ada@example.com"})
            pack.run()
            [action] = pack.pending()
            pack.decide(action["id"], "approve")
            pack.run()
            assert pack.job(job_id)["status"] == "completed"

Everything is real (gates, the worker, approvals, the outbox that carries out effects); only the
org and its one user are made up, and the user is always inside their active hours. Shipped with
Overture so ``overture init`` can give a new pack a passing test.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import Any

from overture.app import App
from overture.clock import Clock
from overture.core.records import Decision
from overture.engine.admin.views import action_view, job_detail
from overture.errors import NotFound
from overture.settings import Settings
from overture.storage.queries import approvals as actionq
from overture.storage.queries import jobs as jobq

ORG = "test-org"
USER = "tester"


class PackHarness:
    """One pack, one org (``test-org``) and one user (``tester``) on a new SQLite database.

    ``outbox_dir`` (``folder/outbox``) is the ``outbox_dir`` setting, where effects that write
    files put them. ``settings`` overrides any other setting (``llm_provider="offline"``...).
    """

    def __init__(self, pack: str | Path, folder: Path, clock: Clock | None = None, **settings: Any) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.outbox_dir = self.folder / "outbox"
        options: dict[str, Any] = {
            "database_url": f"sqlite:///{self.folder / 'overture.db'}",
            "packs": [str(pack)],
            "outbox_dir": self.outbox_dir,
            "schedules": [],
            **settings,
        }
        self.app = App(Settings(**options), clock=clock)
        self.app.migrate()
        self.app.admin.add_org(ORG, "Test org")
        self.app.admin.add_user(ORG, USER, "Tester", active_hours=None, email="tester@example.com")

    def emit(self, event_type: str, payload: dict[str, Any] | None = None, **extra: Any) -> str:
        """Send an event as ``tester``; returns its job id (raises if the gates refused it)."""
        result = self.app.emit(
            {"type": event_type, "org_id": ORG, "user_id": USER, "payload": payload or {}, **extra}
        )
        if result.job_id is None:
            raise AssertionError(f"{event_type} was not accepted: {result.status} ({result.reason})")
        return result.job_id

    def run(self) -> int:
        """Run the worker until nothing is runnable (effects carried out too); returns job runs."""
        return self.app.run_until_idle()

    def job(self, job_id: str) -> dict[str, Any]:
        """The job as ``overture jobs show --json`` prints it: status, steps with outputs, chain."""
        with self.app.store.read() as conn:
            job = jobq.get_job(conn, job_id)
            if job is None:
                raise NotFound(f"no job {job_id!r}")
            return job_detail(conn, job)

    def outputs(self, job_id: str) -> dict[str, Any]:
        """Each completed step's output by step name."""
        with self.app.store.read() as conn:
            return jobq.recorded_outputs(conn, job_id)

    def pending(self) -> list[dict[str, Any]]:
        """Actions waiting for a decision, as ``overture approvals list --json`` prints them."""
        with self.app.store.read() as conn:
            rows = actionq.list_actions(conn, org_id=ORG, status="pending", limit=1000)
        return [action_view(a) for a in rows]

    def decide(self, action_id: str, decision: str, modifications: dict[str, Any] | None = None) -> str:
        """Approve, edit (with ``modifications``), skip or cancel; returns the outcome's message."""
        return self.app.approvals.decide(action_id, Decision(decision), USER, "test", modifications).message

    def close(self) -> None:
        self.app.close()

    def __enter__(self) -> PackHarness:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
