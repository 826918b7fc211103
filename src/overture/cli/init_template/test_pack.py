"""template_pack's sequence run for real on a throwaway SQLite database (``overture.testing``).

Run with ``python -m pytest`` in this folder.
"""

from __future__ import annotations

from pathlib import Path

from overture.testing import PackHarness

PACK = Path(__file__).resolve().parent
MESSAGE = {"name": "Ada Lovelace", "email": "ada@example.com", "message": "Do you ship to Lisbon?"}


def test_the_reply_waits_for_approval_and_is_written_once(tmp_path: Path) -> None:
    with PackHarness(PACK, tmp_path) as pack:
        job_id = pack.emit("contact_request", MESSAGE)
        pack.run()
        assert pack.job(job_id)["status"] == "awaiting_approval"
        [action] = pack.pending()
        assert action["draft"]["to"] == "ada@example.com"
        pack.decide(action["id"], "edit", {"subject": "Yes, we ship to Lisbon"})
        pack.run()
        assert pack.job(job_id)["status"] == "completed"
        [sent] = (pack.outbox_dir / "template_pack").iterdir()
        assert "Subject: Yes, we ship to Lisbon" in sent.read_text()


def test_a_message_without_a_usable_email_fails_at_the_draft(tmp_path: Path) -> None:
    with PackHarness(PACK, tmp_path) as pack:
        job_id = pack.emit("contact_request", {**MESSAGE, "email": "not an address"})
        pack.run()
        job = pack.job(job_id)
        assert job["status"] == "failed"
        [draft] = [step for step in job["steps"] if step["name"] == "draft-reply"]
        assert "inputs do not match ContactRequest: email" in draft["error"]
        assert pack.pending() == []
