"""The README's main job: `overture serve --demo` on a fresh folder shows a person where to look."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_demo_seeds_the_story_and_prints_a_working_token(tmp_path: Path) -> None:
    """On a fresh checkout folder the demo seeds Northwind, ends Maya's call, and the printed
    token signs in to an API that already has her follow-up draft waiting; the printed one-time
    link is Maya's."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OVERTURE_")}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "overture.cli",
            "serve",
            "--demo",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        headers: dict[str, str] = {}
        link = ""
        pending: list[dict[str, object]] = []

        def follow_up_waiting() -> bool:
            return any(str(p["title"]).startswith("Follow-up to Jordan Blake") for p in pending)

        while time.monotonic() < deadline and not follow_up_waiting():
            time.sleep(0.3)
            if not headers:
                assert proc.stderr is not None
                line = proc.stderr.readline()
                printed = re.search(r"(http://\S+/signin/link\?code=ovl_\S+)", line)
                link = printed.group(1) if printed else link
                found = re.search(r"token \(shown once\): (ov_\S+)", line)
                if found:
                    headers = {"Authorization": f"Bearer {found.group(1)}"}
                continue
            pending = httpx.get(f"{base}/v1/approvals", headers=headers, timeout=5).json()["items"]
        assert headers, "no token was printed"
        assert link.startswith(f"{base}/signin/link?code=ovl_"), "no sign-in link was printed"
        assert "Sign in as Maya Chen" in httpx.get(link, timeout=5).text
        # The call's chain: the follow-up, proposal and times drafts, and the rep's confirmation
        # of the deal stage the call moved (a confirm gate, nothing sent before it is decided).
        patterns = {str(p["title"]).split(" ")[0]: p["pattern"] for p in pending}
        assert follow_up_waiting(), pending
        assert patterns.get("Proposal") == "draft" and patterns.get("Times") == "draft", pending
        assert set(patterns.values()) <= {"draft", "confirm"}, pending
        assert (tmp_path / "overture.db").exists()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)
    assert proc.returncode == 0
