"""The workspace's members built and installed as a user would: a wheel from a copy of the member's files
(setuptools builds in the source folder, where another xdist worker may be building too, and the checkout
gets no build/ left in it), and clean venvs made by uv."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
UV = shutil.which("uv")
# Each member's files, relative to the checkout: what its wheel is built from.
MEMBERS = {
    "retrace": ["pyproject.toml", "README.md", "app"],
    "retrace-lattice": ["tools/lattice"],
    "retrace-client": ["sdk/retrace-client"],
}
_LEFTOVERS = shutil.ignore_patterns("build", "dist", "*.egg-info", "__pycache__", ".ruff_cache")


def uv(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`uv ARGS` that must succeed (its stderr's tail in the failure)."""
    assert UV is not None, "uv is not on PATH (requirements/nox.txt installs it)"
    done = subprocess.run([UV, *args], cwd=cwd, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, f"uv {' '.join(args)}: {done.stderr[-2000:]}"
    return done


def build_wheel(member: str, into: Path) -> Path:
    """The wheel of workspace member `member` (a MEMBERS key), built in `into` from a copy."""
    source = into / f"{member}-source"
    paths = MEMBERS[member]
    if len(paths) == 1 and (REPO / paths[0]).is_dir():
        shutil.copytree(REPO / paths[0], source, ignore=_LEFTOVERS)
    else:
        source.mkdir()
        for path in paths:
            if (REPO / path).is_dir():
                shutil.copytree(REPO / path, source / path, ignore=_LEFTOVERS)
            else:
                shutil.copy2(REPO / path, source / path)
    uv("build", "--quiet", "--wheel", "--out-dir", str(into / "dist"), str(source), cwd=into)
    (wheel,) = (into / "dist").glob(f"{member.replace('-', '_')}-*.whl")
    return wheel


def clean_venv(root: Path) -> Path:
    """A new venv under `root` on this interpreter; its python."""
    uv("venv", "--quiet", "--python", sys.executable, str(root / "venv"), cwd=root)
    return root / "venv" / "bin" / "python"
