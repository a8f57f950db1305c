"""Per-test timeouts (pytest-timeout, as the lattice configures it): a hung test fails with its stack,
under xdist too, and its fixture's teardown still runs (the live stack stops the same way)."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.lattice.tmpproject import write_pyproject
from tools.lattice.plugin.childenv import child_pytest_env

ROOT = Path(__file__).resolve().parents[2]

HUNG = """\
import time
from pathlib import Path

import pytest


@pytest.fixture
def stack(tmp_path_factory):
    yield
    Path({torn!r}).write_text("torn down")


def wait_for_a_reply_that_never_comes():
    time.sleep(600)


def test_hangs(stack):
    wait_for_a_reply_that_never_comes()


def test_quick():
    pass
"""


def _ini() -> dict[str, object]:
    return dict(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"])


@pytest.mark.parametrize("workers", [["-p", "no:xdist"], ["-n", "2"]], ids=["serial", "xdist"])
def test_a_hung_test_fails_with_its_stack_and_its_teardown_runs(tmp_path: Path, workers: list[str]) -> None:
    torn = tmp_path / "torn"
    ini = _ini()
    # This project's method; a short limit instead of its value.
    write_pyproject(tmp_path, f'timeout = 5\ntimeout_method = "{ini["timeout_method"]}"\n')
    (tmp_path / "test_hung.py").write_text(HUNG.format(torn=str(torn)))
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:randomly", "-rA", *workers],
        cwd=tmp_path,
        env=child_pytest_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    assert "FAILED test_hung.py::test_hangs - Failed: Timeout (>5.0s)" in out, out
    assert "PASSED test_hung.py::test_quick" in out
    assert "wait_for_a_reply_that_never_comes" in out  # the hung call's stack
    assert torn.read_text() == "torn down"


def test_every_suite_has_a_limit() -> None:
    ini = _ini()
    assert ini["timeout_method"] == "signal"
    assert isinstance(ini["timeout"], int)
    assert ini["timeout"] > 0
