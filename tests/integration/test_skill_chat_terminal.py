"""`overture skills chat` in a real pseudo-terminal: answers typed at the prompts, what is
shown checked, and the keys: Enter takes the offered answer, Ctrl-C cancels with nothing
written, Ctrl-D ends the session."""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path

import pexpect
import pytest

DATA = Path(__file__).resolve().parents[1] / "data" / "vaults"
OVERTURE = Path(sys.executable).parent / "overture"
PROMPT_READY = "\x1b[?2004h"
_ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    root = tmp_path / "vault"
    shutil.copytree(DATA / "periodic", root)
    return root


def spawn(vault: Path) -> pexpect.spawn:
    env = {
        **os.environ,
        "PROMPT_TOOLKIT_NO_CPR": "1",
        "TERM": "xterm",
        "OVERTURE_LLM_PROVIDER": "offline",
    }
    for name in ("OVERTURE_VAULT", "OVERTURE_CALENDAR", "OVERTURE_TIMEZONE"):
        env.pop(name, None)
    args = [
        "skills",
        "chat",
        "planning-daily",
        "--folder",
        str(DATA / "periodic-skills"),
        "--vault",
        str(vault),
    ]
    args += ["--date", "2026-12-01", "--timezone", "Europe/Berlin"]
    return pexpect.spawn(str(OVERTURE), args, env=env, encoding="utf-8", timeout=30, dimensions=(60, 220))


def ask(child: pexpect.spawn, question: str) -> None:
    """Wait for ``question`` and for its prompt to take keys (the terminal switched to
    bracketed paste: before that, a Ctrl-D would go to the line discipline, not the prompt)."""
    child.expect_exact(question)
    child.expect_exact(PROMPT_READY)


def answer(child: pexpect.spawn, pairs: list[tuple[str, str]]) -> None:
    for question, typed in pairs:
        ask(child, question)
        child.sendline(typed)


def shown(child: pexpect.spawn) -> str:
    """Everything the terminal showed after the last match, without escape sequences."""
    child.expect(pexpect.EOF)
    child.close()
    return _ESCAPES.sub("", child.before).replace("\r", "")


def test_typed_answers_drive_the_session_and_today_md_is_written(vault: Path) -> None:
    child = spawn(vault)
    child.expect_exact("Loading context for planning-daily (2026-12-01):")
    child.expect_exact("- Week.md: ⚠ for week 7, not week 49 [Captive/Week.md]")
    child.expect_exact("3. 11:00-12:00: Billing migration sync")
    answer(
        child,
        [
            ("give the numbers to drop.", "3"),
            ("(at most 3)?", "2; Book the retro room"),
            ("What do you want to bring to Esther Schmidt?", "the headcount numbers"),
            ("What do you want to bring to Tomás Kovač?", ""),
            ("What do you want to bring to Mei Lin?", ""),
            ("Focus block 09:15-10:00", "drop"),
            ("Focus block 10:30-12:00", ""),
        ],
    )
    child.expect_exact("I will write Captive/Today.md:")
    child.expect_exact("- Bring: the headcount numbers")
    answer(child, [("Write Captive/Today.md now?", "")])
    text = shown(child)
    assert child.exitstatus == 0, text
    assert "- Confirmed 4 meetings; dropped Billing migration sync\n" in text
    assert "- For the 1:1 with Esther Schmidt: bring the headcount numbers\n" in text
    assert "- Focus block 09:15-10:00 dropped\n- Focus block 10:30-12:00 accepted\n" in text
    assert f"wrote {vault / 'Captive' / 'Today.md'}" in text
    today = (vault / "Captive" / "Today.md").read_text()
    assert "## Top 3\n- [ ] Sign off the billing cutover plan\n- [ ] Book the retro room\n" in today
    assert "- 10:30-12:00: Focus block\n" in today and "Billing migration sync" not in today


def test_ctrl_c_cancels_and_nothing_is_written(vault: Path) -> None:
    child = spawn(vault)
    answer(child, [("give the numbers to drop.", ""), ("(at most 3)?", "1")])
    ask(child, "What do you want to bring to Esther Schmidt?")
    child.sendcontrol("c")
    text = shown(child)
    assert child.exitstatus == 130, text
    assert "- Cancelled by the user: nothing was written\n" in text
    assert "**Status:** Cancelled\n" in text
    assert not (vault / "Captive" / "Today.md").exists()


def test_ctrl_d_ends_the_session_without_writing(vault: Path) -> None:
    child = spawn(vault)
    answer(child, [("give the numbers to drop.", "")])
    ask(child, "(at most 3)?")
    child.sendcontrol("d")
    text = shown(child)
    assert child.exitstatus == 0, text
    assert "- User ended the session early\n" in text
    assert "- Session: ended by the user before anything was written\n" in text
    assert not (vault / "Captive" / "Today.md").exists()
