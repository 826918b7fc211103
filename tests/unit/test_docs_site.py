"""The docs build as a site with ``mkdocs build --strict``: a broken link between pages, a page
missing from the navigation's files or a bad anchor fails the build, and so this test."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_docs_build_strict(tmp_path: Path) -> None:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    assert "WARNING" not in built.stderr
    page = (tmp_path / "site" / "concepts" / "index.html").read_text(encoding="utf-8")
    assert '<pre class="mermaid">' in page  # the flow diagram is drawn, not shown as code
