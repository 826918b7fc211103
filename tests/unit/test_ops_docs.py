"""The integration and operations pages stay true to the code: every OVERTURE_* variable they
name is a setting, every `overture ...` command they give exists, every file of the repository
they point at exists, and the metrics page documents exactly the metrics /metrics serves."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from overture.cli.main import cli
from overture.observability.metrics import families
from overture.observability.readings import LlmUse, Readings
from overture.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted([*(ROOT / "docs" / "integrations").glob("*.md"), *(ROOT / "docs" / "operations").glob("*.md")])
FILES = [*PAGES, ROOT / "compose.yaml", *(ROOT / "deploy" / "systemd").iterdir()]


def ids(paths: list[Path]) -> list[str]:
    return [str(p.relative_to(ROOT)) for p in paths]


def test_there_is_a_page_per_integration_and_per_operations_topic() -> None:
    names = {p.stem for p in PAGES}
    integrations = {"slack", "meetingbaas", "gmail", "microsoft-graph", "google-calendar", "smtp"}
    integrations |= {"apollo", "apify", "instantly", "openai-compatible", "anthropic"}
    operations = {
        "postgresql",
        "workers",
        "backups",
        "upgrades",
        "metrics",
        "traces-and-logs",
        "job-statuses",
        "web-console",
        "console",
    }
    assert integrations | operations | {"deploy", "README"} == names


@pytest.mark.parametrize("path", FILES, ids=ids(FILES))
def test_every_variable_named_is_a_setting(path: Path) -> None:
    fields = {name.upper() for name in Settings.model_fields}
    named = set(re.findall(r"OVERTURE_([A-Z0-9_]+)", path.read_text()))
    assert named - fields == set()


@pytest.mark.parametrize("path", PAGES, ids=ids(PAGES))
def test_every_command_given_exists(path: Path) -> None:
    # Not Slack's slash command `/overture signin`: it is no CLI command.
    for name, sub in re.findall(r"(?<!/)\boverture ([a-z][a-z-]*)(?: ([a-z][a-z_-]*))?", path.read_text()):
        if name == "overture":  # `docker run IMAGE overture serve`: the image is named overture too
            continue
        command = cli.get_command(click.Context(cli), name)
        assert command is not None, f"{path.name}: `overture {name}` is no command"
        if isinstance(command, click.Group) and sub:
            assert command.get_command(click.Context(command), sub) is not None, (
                f"{path.name}: `overture {name} {sub}` is no command"
            )


@pytest.mark.parametrize("path", PAGES, ids=ids(PAGES))
def test_every_repository_file_pointed_at_exists(path: Path) -> None:
    pointed = re.findall(
        r"`((?:src|tests|scripts|deploy|docs)/[\w./@-]+|Dockerfile|compose\.yaml)`", path.read_text()
    )
    missing = [p for p in pointed if not (ROOT / p.rstrip("/")).exists()]
    assert missing == []


def test_the_metrics_page_documents_every_metric_served_and_no_other() -> None:
    readings = Readings(
        events_by_outcome={"accepted": 1},
        jobs_by_status={},
        queue_depth=0,
        pending_approvals=0,
        step_durations={("e", "s", "completed"): ([1] * 14, 1, 1.0)},
        failed_jobs={("e", 0): 1},
        llm=[LlmUse("e", 0, "p", "m", 1, 1, 1)],
        effects={("e", 0, "k", "sent"): 1},
        webhook_receipts={("slack", "processed"): 1},
        decisions={("e", "s", "approved", "web"): 1},
    )
    served = {
        sample.name.removesuffix("_bucket").removesuffix("_count").removesuffix("_sum")
        for family in families(readings, lambda event_type, index: "s")
        for sample in family.samples
    }
    page = (ROOT / "docs" / "operations" / "metrics.md").read_text()
    documented = set(re.findall(r"^\| `(overture_[a-z_]+)`", page, flags=re.MULTILINE))
    assert documented == served
