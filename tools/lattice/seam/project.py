"""Which project the lattice works on, found from the working directory (no settings library: the spec
diff's fast start imports this)."""

from __future__ import annotations

from pathlib import Path


def project_root(start: Path | None = None) -> Path:
    """The project the lattice works on: from `start` (the working directory) up, the nearest directory
    whose pyproject.toml has a `[tool.lattice]` table, else the nearest with a pyproject.toml, else `start`.

    Not this file's location: installed from a wheel, the lattice lives in site-packages."""
    here = (start or Path.cwd()).resolve()
    nearest: Path | None = None
    for directory in (here, *here.parents):
        pyproject = directory / "pyproject.toml"
        if not pyproject.is_file():
            continue
        nearest = nearest or directory
        if "[tool.lattice]" in pyproject.read_text(errors="replace"):
            return directory
    return nearest or here
