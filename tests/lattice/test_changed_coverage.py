"""Changed-lines coverage (diff-cover, as the lattice runs it): a tmp git repository, two commits, a
Cobertura XML that covers some of the second commit's lines, the floor from its pyproject.toml."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tools.lattice.report.changed_coverage import changed_lines

XML = """<?xml version="1.0" ?>
<coverage version="7" line-rate="0.5" branch-rate="0" lines-covered="2" lines-valid="4" branches-covered="0"
 branches-valid="0" complexity="0" timestamp="0">
  <sources><source>{root}</source></sources>
  <packages><package name="app" line-rate="0.5" branch-rate="0" complexity="0"><classes>
    <class name="mod.py" filename="app/mod.py" line-rate="0.5" branch-rate="0" complexity="0">
      <methods/><lines>{lines}</lines>
    </class>
  </classes></package></packages>
</coverage>
"""


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=repo, check=True)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    _git(tmp_path, "init", "-q")
    (tmp_path / "pyproject.toml").write_text("[tool.diff_cover]\nfail_under = 75\n")
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "mod.py").write_text("a = 1\n")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "base")
    (tmp_path / "app" / "mod.py").write_text("a = 1\nb = 2\nc = 3\nd = 4\ne = 5\n")
    _git(tmp_path, "commit", "-q", "-am", "change")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize(("covered", "code", "percent"), [({2, 3, 4, 5}, 0, 100), ({2, 3}, 1, 50)])
def test_changed_lines_are_held_to_their_floor(
    repo: Path, covered: set[int], code: int, percent: int
) -> None:
    lines = "".join(f'<line number="{n}" hits="{int(n in covered)}"/>' for n in range(1, 6))
    xml = repo / "coverage.xml"
    xml.write_text(XML.format(root=repo, lines=lines))
    out = repo / "out"
    out.mkdir()
    got, figures = changed_lines(xml, "HEAD~1", out)
    assert (got, figures["total_num_lines"], figures["total_percent_covered"]) == (code, 4, percent)
    assert (out / "changed-lines.md").is_file()


def test_a_missing_base_is_one_line(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert changed_lines(repo / "coverage.xml", "HEAD~5", repo) == (2, {})
    assert capsys.readouterr().out.count("\n") == 1
