"""The pyproject.toml of a tmp project the lattice's tests run pytest in (as a child process)."""

from __future__ import annotations

from pathlib import Path

# pytest-asyncio (installed in this environment, so loaded in every pytest run here) warns at start-up
# when a project leaves its fixtures' loop scope unset; "function" is its default, said out loud.
INI = '[tool.pytest.ini_options]\nasyncio_default_fixture_loop_scope = "function"\n'


def write_pyproject(directory: Path, extra: str = "") -> None:
    """`directory`/pyproject.toml with the ini options every tmp project needs, plus `extra` lines."""
    (directory / "pyproject.toml").write_text(INI + extra)
