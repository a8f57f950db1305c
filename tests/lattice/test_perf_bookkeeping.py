"""A perf run's bookkeeping leaves the checkout clean: the tracked history and baseline change only
when asked (`--record`, `--accept`); every run's record goes under logs/, which git ignores."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tools.lattice.engines.perf import history

REPO = Path(__file__).resolve().parents[2]


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout


@pytest.fixture
def checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git checkout holding the repository's .gitignore and tracked perf files, as the working dir."""
    _git(tmp_path, "init", "-q")
    shutil.copy(REPO / ".gitignore", tmp_path / ".gitignore")
    (tmp_path / "perf").mkdir()
    for name in ("history.jsonl", "baseline.json"):
        shutil.copy(REPO / "perf" / name, tmp_path / "perf" / name)
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@example.test", "commit", "-q", "-m", "seed")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _record() -> history.Record:
    return history.new_record("external", {"latency": {}}, {"get_p95_vs_bare": 1.1})


def _changed(checkout: Path) -> list[str]:
    return sorted(line[3:] for line in _git(checkout, "status", "--porcelain").splitlines())


def test_a_plain_run_leaves_git_status_clean(checkout: Path) -> None:
    for _ in range(2):
        history.bookkeep(_record(), record_history=False, accept_run=False)
    assert _changed(checkout) == []
    assert len(history.load_history(checkout / history.RUN_HISTORY)) == 2
    assert (checkout / history.LAST_RUN).is_file()
    assert len(history.plotted_history()) == len(history.load_history()) + 2


def test_record_appends_to_the_tracked_history_only(checkout: Path) -> None:
    before = len(history.load_history())
    history.bookkeep(_record(), record_history=True, accept_run=False)
    assert _changed(checkout) == ["perf/history.jsonl"]
    assert len(history.load_history()) == before + 1


def test_accept_rewrites_the_tracked_baseline_only(checkout: Path) -> None:
    record = _record()
    history.bookkeep(record, record_history=False, accept_run=True)
    assert _changed(checkout) == ["perf/baseline.json"]
    assert history.load_baseline() == record
