"""Block Kit messages and the edit modal stay inside Slack's limits whatever the draft holds."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from overture.core.records import ActionStatus, PendingAction
from overture.integrations import slack_blocks as blocks
from overture.integrations.slack_modal import edit_modal

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def action(pattern: str = "draft", **changes: object) -> PendingAction:
    base: dict[str, object] = {
        "id": "pa1",
        "org_id": "acme",
        "user_id": "ana",
        "job_id": "j1",
        "step_index": 1,
        "step_name": "send",
        "pattern": pattern,
        "title": "Follow-up to <Dana> & co",
        "draft": {"to": "dana@example.com", "subject": "Hi", "body": "Hello"},
        "status": ActionStatus.PENDING,
        "expires_at": NOW + timedelta(hours=48),
        "created_at": NOW,
    }
    return PendingAction(**{**base, **changes})  # type: ignore[arg-type]


def test_text_is_escaped_and_a_long_body_is_clipped_to_fit() -> None:
    """Slack's control characters are escaped; a 10,000-character body fits in a section."""
    message = blocks.approval_request(action(draft={"to": "d@x.io", "subject": "s", "body": "x" * 10_000}))
    assert "Follow-up to &lt;Dana&gt; &amp; co" in json.dumps(message.blocks)
    texts = [b.get("text", {}).get("text", "") for b in message.blocks]
    body = next(t for t in texts if t.startswith("xxx"))
    assert len(body) <= 3000 and body.endswith("…")


def test_expiry_is_shown_in_the_readers_time_zone() -> None:
    """The expiry is a Slack date token with a UTC fallback."""
    context = json.dumps(blocks.approval_request(action()).blocks)
    assert (
        f"<!date^{int((NOW + timedelta(hours=48)).timestamp())}^" in context
        and "2026-11-22 12:00 UTC" in context
    )


def test_an_outcome_has_no_buttons_and_says_who_what_and_when() -> None:
    """Decided: the verb, the person, the channel and the moment; expired: that nothing was done."""
    decided = action(status=ActionStatus.SKIPPED, decided_by="boss", decided_via="web", decided_at=NOW)
    message = blocks.approval_outcome(decided, "Boss")
    assert not [b for b in message.blocks if b["type"] == "actions"]
    assert message.text == "Follow-up to <Dana> & co: skipped by Boss"
    assert "*Skipped* by Boss via web" in json.dumps(message.blocks)
    expired = blocks.approval_outcome(action(status=ActionStatus.EXPIRED), None)
    assert "nothing was done" in json.dumps(expired.blocks) and expired.text.endswith("expired unanswered")


def test_a_draft_too_long_for_a_modal_says_so_instead_of_losing_text() -> None:
    """Slack inputs hold 3,000 characters: a longer body is not truncated into an edit."""
    view = edit_modal(action(draft={"to": "d@x.io", "body": "y" * 3001}))
    assert "submit" not in view and not [b for b in view["blocks"] if b["type"] == "input"]
    assert json.loads(view["private_metadata"]) == {"pending_action_id": "pa1"}


def test_many_tasks_are_split_into_checkbox_groups_of_ten() -> None:
    """Slack allows ten options per checkbox group: 14 tasks make two groups."""
    options = [{"id": f"t{n}", "title": f"Task {n}", "due_date": None} for n in range(14)]
    message = blocks.approval_request(action("select", draft={"options": options, "selected": ["t0", "t12"]}))
    groups = [b for b in message.blocks if b.get("block_id", "").startswith("select:")]
    assert [len(g["elements"][0]["options"]) for g in groups] == [10, 4]
    assert [o["value"] for g in groups for o in g["elements"][0].get("initial_options", [])] == ["t0", "t12"]


def test_a_grounded_draft_shows_where_each_sentence_comes_from() -> None:
    """Each sentence of the draft, clipped, with the speaker and time or record it rests on."""
    grounding = [
        {
            "text": "Hi Jordan,",
            "sources": [{"kind": "record", "ref": "contact:c1", "label": "Contact: Jordan Blake"}],
        },
        {
            "text": "I'll send you the proposal by Friday, with pricing for Chicago and Dallas.",
            "sources": [{"kind": "segment", "ref": "segment:19", "label": "Maya Chen at 02:24"}],
        },
    ]
    draft = {
        "to": "jordan@example.com",
        "subject": "Next steps",
        "body": "Hi Jordan,",
        "grounding": grounding,
    }
    context = [b for b in blocks.approval_request(action(draft=draft)).blocks if b["type"] == "context"]
    shown = json.dumps(context)
    assert "Where each sentence comes from" in shown
    assert "Contact: Jordan Blake" in shown and "Maya Chen at 02:24" in shown
