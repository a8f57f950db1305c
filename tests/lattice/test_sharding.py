"""Shards through pytest-split, spelled `--lattice-shard K/N` / LATTICE_SHARD: a tmp project with its
own durations file, run as a child pytest (serial and under xdist), each test in exactly one shard.
Under xdist the tmp project also proves the lattice's plugin leaves a suite without a target alone."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.lattice.tmpproject import write_pyproject
from tools.lattice.plugin.childenv import child_pytest_env
from tools.lattice.plugin.sharding import ShardError, parse_shard

TESTS = ("slow", "a", "b", "c")


def _project(tmp_path: Path) -> Path:
    write_pyproject(tmp_path)
    (tmp_path / "test_four.py").write_text("".join(f"def test_{name}():\n    pass\n" for name in TESTS))
    # b and c have no record: each weighs the mean of 9 and 1, so slow + a fill one shard, b + c the other.
    durations = {"test_four.py::test_slow": 9.0, "test_four.py::test_a": 1.0}
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "durations.json").write_text(json.dumps(durations))
    return tmp_path


def _passed(project: Path, *args: str, **env: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:randomly", "-rA", *args],
        cwd=project,
        env={**child_pytest_env(), **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return set(re.findall(r"^PASSED \S+::test_(\w+)$", done.stdout, re.MULTILINE))


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_each_test_runs_in_exactly_one_shard_longest_first(tmp_path: Path, workers: list[str]) -> None:
    project = _project(tmp_path)
    first = _passed(project, "--lattice-shard", "1/2", *workers)
    second = _passed(project, *workers, LATTICE_SHARD="2/2")
    assert (first, second) == ({"slow", "a"}, {"b", "c"})


def test_a_bad_shard_stops_the_run_with_one_line(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--lattice-shard", "3/2"],
        cwd=_project(tmp_path),
        env=child_pytest_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 4
    assert [line for line in done.stderr.splitlines() if "lattice:" in line] == [
        "ERROR: lattice: shard '3/2' is not K/N with 1 ≤ K ≤ N (e.g. 1/2)"
    ]


@pytest.mark.parametrize("text", ["0/2", "3/2", "1", "a/b", "1/0", ""])
def test_a_bad_shard_is_one_line(text: str) -> None:
    with pytest.raises(ShardError, match="is not K/N"):
        parse_shard(text)
    assert parse_shard(" 2 / 3 ") == (2, 3)
