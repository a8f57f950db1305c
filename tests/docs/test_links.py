"""Links and repository paths in the docs resolve inside the repository."""

from __future__ import annotations

from pathlib import Path

from tests.docs.pages import ROOT, links, pages, prose_words, repo_path, resolves, shown, spans


def _link_problem(page: Path, target: str) -> str | None:
    if target.startswith(("http://", "https://", "mailto:", "#")):
        return None
    path = target.split("#", 1)[0]
    resolved = (page.parent / path).resolve()
    if not resolved.is_relative_to(ROOT):
        return f"{target} leaves the repository"
    if not resolved.exists():
        return f"{target} does not exist"
    return None


def test_links_resolve_inside_the_repository() -> None:
    wrong = [
        f"{shown(page)}:{line}: {problem}"
        for page in pages()
        for line, target in links(page)
        if (problem := _link_problem(page, target))
    ]
    assert not wrong, "\n".join(wrong)


def test_repository_paths_exist() -> None:
    """Paths in code spans (`tools/lattice/cli.py`) and bare in prose name something that is there."""
    words = [(line, w) for page in pages() for line, span in spans(page) for w in span.split()]
    wrong = [
        f"{shown(page)}:{line}: no {path} in the repository"
        for page in pages()
        for line, word in [*((n, w) for n, s in spans(page) for w in s.split()), *prose_words(page)]
        if (path := repo_path(word)) and not resolves(path)
    ]
    assert words, "no code spans found: the page reader is broken"
    assert not wrong, "\n".join(wrong)


def test_the_path_checks_catch_what_does_not_exist() -> None:
    assert repo_path("tools/lattice/seam/target.py:Target") == "tools/lattice/seam/target.py"
    assert resolves("tools/lattice/seam/target.py")
    assert not resolves("tools/lattice/nosuch.py")
    assert resolves("tests/race/test_sweep_*.py")
    assert resolves("app/routes/<resource>.py")
    assert repo_path("logs/perf.json") is None  # written by runs, not in the repository
    page = ROOT / "docs" / "x.md"
    assert _link_problem(page, "testing.md#guards") is None
    assert _link_problem(page, "nosuch.md") == "nosuch.md does not exist"
    assert _link_problem(page, "../../outside.md") == "../../outside.md leaves the repository"
