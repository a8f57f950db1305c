"""Coverage of the lines a change touched (PR mode): diff-cover on the combined coverage XML.

The global floor ([tool.coverage.report] fail_under) lets a change add untested lines as long as the
whole stays above it; this floor ([tool.diff_cover] fail_under in pyproject.toml, read by diff-cover
itself) holds the changed lines of app/ to their own. diff-cover does the work (git diff against the
base, lines mapped onto the XML, the report); this module only runs it on the lattice's files and
writes them beside the other figures (logs/coverage/changed-lines.json, .md).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any


def base_exists(base: str) -> bool:
    done = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", f"{base}^{{commit}}"], capture_output=True, check=False
    )
    return done.returncode == 0


def changed_lines(xml: Path, base: str, out_dir: Path) -> tuple[int, dict[str, Any]]:
    """diff-cover's exit code (1: below the floor) and its JSON figures."""
    if not base_exists(base):
        print(f"lattice: changed-lines coverage: no commit {base!r} here (fetch it, or give --diff-base)")
        return 2, {}
    report = out_dir / "changed-lines.json"
    command = [
        sys.executable,
        "-m",
        "diff_cover.diff_cover_tool",
        str(xml),
        "--config-file",
        "pyproject.toml",
        "--compare-branch",
        base,
        "--format",
        f"json:{report},markdown:{out_dir / 'changed-lines.md'}",
    ]
    done = subprocess.run(command, check=False)
    figures = json.loads(report.read_text()) if report.is_file() else {}
    return done.returncode, figures
