"""docs/modules.md names every module of the lattice with its docstring's first line, as generated."""

from __future__ import annotations

from pathlib import Path

from tools.lattice.report.modules import render

REPO = Path(__file__).resolve().parents[2]
PAGE = REPO / "docs" / "modules.md"


def test_the_module_page_is_current() -> None:
    assert PAGE.read_text() == render(), (
        "docs/modules.md is out of date: python -m tools.lattice report modules --write docs/modules.md"
    )


def test_every_module_has_a_docstring() -> None:
    assert "(no docstring)" not in render()


def test_the_page_follows_a_new_module(tmp_path: Path) -> None:
    (tmp_path / "engines").mkdir()
    (tmp_path / "cli.py").write_text('"""The command line."""\n')
    (tmp_path / "engines" / "fresh.py").write_text('"""A new engine | with a pipe.\n\nMore."""\n')
    page = render(tmp_path)
    assert "| `tools/lattice/engines/fresh.py` | A new engine \\| with a pipe. |" in page
    assert page.index("## (root)") < page.index("## engines")
