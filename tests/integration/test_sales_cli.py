"""`overture seed` loads the seed org; the sales demo story tells what happened and why."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from overture.cli import sales
from overture.cli.main import cli
from overture.packs.sales.seed import story

if "seed" not in cli.commands:
    sales.register(cli)


def test_seed_command_loads_the_org_once(db_url: str) -> None:
    """A first run creates the org and reports counts; a second refuses to seed it again."""
    runner = CliRunner()
    args = ["--db", db_url, "seed", "--org", "acme", "--seed", "3", "--day", "2026-11-20", "--json"]
    first = runner.invoke(cli, args, env={"OVERTURE_PACKS": '["sales"]'})
    assert first.exit_code == 0, first.output
    report = json.loads(first.output)
    assert report["org_id"] == "acme" and report["day"] == "2026-11-20"
    assert report["counts"]["crm_companies"] == 30 and report["counts"]["crm_transcripts"] == 8
    assert sorted(report["users"].values()) == [
        "acme.dana",
        "acme.kenji",
        "acme.leo",
        "acme.maya",
        "acme.sofia",
    ]
    again = runner.invoke(cli, args, env={"OVERTURE_PACKS": '["sales"]'})
    assert again.exit_code == 1 and "already has CRM data" in again.output


def test_the_demo_story_runs_end_to_end(tmp_path: Path) -> None:
    """Call ended -> follow-up approved and sent -> tasks selected -> proposal chained -> the brief."""
    lines: list[str] = []
    story.run(tmp_path, lines.append)
    text = "\n".join(lines)
    for expected in (
        "1. MeetingBaaS says the discovery call with Brightline Freight ended (event accepted).",
        "    - rep      send_proposal     0.95  \"I'll send you the proposal by Friday, with pricing",
        "2. The follow-up waits for Maya's approval (draft): Follow-up to Jordan Blake after Discovery",
        "3. Approved. The email left through the outbox: ",
        "   Maya kept the 2 high-priority ones; 2 CRM tasks created.",
        "    proposal_generation -> awaiting_approval",
        "   a proposal was written and waits for approval: Proposal for Brightline Freight ($84,000)",
        "6. The next working morning (Monday), 08:00 in New York, Maya's brief:",
        "Good morning, Maya. Here's your Monday.",
        "[Expand pipeline ->] [Show full inbox ->]",
    ):
        assert expected in text
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 1
