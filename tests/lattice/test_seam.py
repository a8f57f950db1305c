"""The seam holds: tools/lattice reaches the app only through its Target, and the plugin stays out of
suites that configure none."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from tests.lattice.tmpproject import write_pyproject
from tools.lattice.plugin.childenv import child_pytest_env

LATTICE = Path(__file__).resolve().parents[2] / "tools" / "lattice"


def _imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_tools_lattice_imports_nothing_from_the_app() -> None:
    offenders = sorted(
        str(path.relative_to(LATTICE)) for path in LATTICE.rglob("*.py") if "app" in _imported_roots(path)
    )
    assert offenders == [], f"these import `app` (go through the Target instead): {offenders}"


def _pytest(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:randomly", *args],
        cwd=directory,
        # Not measured: this project's coverage settings, read from another directory, would report the
        # app's files it omits (their patterns are relative to the repository).
        env={k: v for k, v in child_pytest_env().items() if not k.startswith("COVERAGE")},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_plugin_leaves_a_suite_without_a_target_alone(tmp_path: Path) -> None:
    write_pyproject(tmp_path)
    (tmp_path / "test_plain.py").write_text("def test_plain():\n    assert 1 + 1 == 2\n")
    done = _pytest(tmp_path, "-q")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout
    assert "warning" not in done.stdout  # neither pytest-asyncio's nor the plugin's imports'
    assert "= lattice =" not in done.stdout  # no service set, no telemetry section
    assert "telemetry:" not in done.stdout


def test_a_child_run_ignores_the_parents_shard_and_worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Set in this process as a sharded run under xdist sets them: the child's suite is its own.
    monkeypatch.setenv("LATTICE_SHARD", "2/2")
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw7")
    write_pyproject(tmp_path)
    (tmp_path / "test_env.py").write_text(
        "import os\ndef test_env():\n    assert 'PYTEST_XDIST_WORKER' not in os.environ\n"
    )
    done = _pytest(tmp_path, "-q")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout
    assert child_pytest_env({"LATTICE_SHARD": "1/2", "LATTICE_PROVIDER": "external"}) == {
        "LATTICE_PROVIDER": "external"
    }


def test_a_target_option_that_names_nothing_is_one_line(tmp_path: Path) -> None:
    write_pyproject(tmp_path)
    (tmp_path / "test_plain.py").write_text("def test_plain():\n    pass\n")
    done = _pytest(tmp_path, "-q", "--lattice-target=nowhere_at_all:TARGET")
    assert done.returncode == 4  # pytest's usage error
    message = [line for line in done.stderr.splitlines() if "lattice:" in line]
    assert message == [
        "ERROR: lattice: --lattice-target / ini lattice_target: cannot import nowhere_at_all: "
        "No module named 'nowhere_at_all'"
    ]
    assert "Traceback" not in done.stderr


def test_a_fixture_without_a_target_says_what_to_set(tmp_path: Path) -> None:
    write_pyproject(tmp_path)
    (tmp_path / "test_uses.py").write_text("def test_uses(api):\n    pass\n")
    done = _pytest(tmp_path, "-q")
    assert done.returncode != 0
    assert "lattice: no target configured: set [tool.lattice] target" in done.stdout
