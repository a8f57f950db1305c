"""The workspace's members are packages of their own: the lattice's wheel installs in a clean venv, with
no app/ anywhere, and brings up a service set; the client's wheel installs and imports.

Built with `uv build` from this checkout and installed with `uv pip` (from uv's cache after the first
run); the venvs' working directory is a temp dir, so nothing of the checkout is importable there.
"""

from __future__ import annotations

import os
import subprocess
import zipfile
from pathlib import Path

import psycopg
import pytest

from tests.lattice.test_services import _urls
from tests.workspace_builds import MEMBERS, UV, build_wheel, clean_venv, uv

pytestmark = pytest.mark.skipif(UV is None, reason="uv is not on PATH (requirements/nox.txt installs it)")


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("dist")
    return {member: build_wheel(member, out) for member in MEMBERS}


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A working directory with nothing of the checkout in it or above it."""
    work = tmp_path / "elsewhere"
    work.mkdir()
    return work


def _env(state_dir: Path) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("LATTICE_", "PYTHON")) and k != "DOCKER_HOST"
    }
    env["LATTICE_STATE_DIR"] = str(state_dir)
    return env


def _python(python: Path, cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """The venv's python with ARGS, in `cwd` (nothing of the checkout there), output captured."""
    return subprocess.run(
        [str(python), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def test_the_lattice_wheel_installs_alone_and_brings_up_a_service_set(
    wheels: dict[str, Path], outside: Path, state_dir: Path
) -> None:
    python = clean_venv(outside)
    uv(
        "pip",
        "install",
        "--quiet",
        "--python",
        str(python),
        f"{wheels['retrace-lattice']}[services]",
        cwd=outside,
    )
    env = _env(state_dir)
    where = _python(
        python,
        outside,
        env,
        "-c",
        "import tools.lattice, importlib.util; print(tools.lattice.__file__);"
        " print(importlib.util.find_spec('app'))",
    ).stdout.split()
    assert len(where) == 2, where
    assert "site-packages" in where[0], where
    assert where[1] == "None", "an `app` package is importable in the lattice's venv"
    up = _python(
        python,
        outside,
        env,
        "-m",
        "tools.lattice",
        "services",
        "up",
        "--provider",
        "embedded",
        "--detach",
        "--shell",
    )
    assert up.returncode == 0, up.stderr
    urls = _urls(up.stdout)
    try:
        with psycopg.connect(urls["LATTICE_DATABASE_URL"], autocommit=True) as conn:
            row = conn.execute("select 1").fetchone()
        assert row == (1,)
        loaded = _python(
            python,
            outside,
            env,
            "-c",
            "import sys; from tools.lattice.cli import main; main(['services', 'status']);"
            " print(sorted(m for m in sys.modules if m == 'app' or m.startswith('app.')))",
        )
        assert loaded.stdout.strip().splitlines()[-1] == "[]", loaded.stdout + loaded.stderr
    finally:
        _python(python, outside, env, "-m", "tools.lattice", "services", "down", "--all")


def test_each_member_wheel_holds_its_own_package_only(wheels: dict[str, Path]) -> None:
    tops = {
        package: {
            name.split("/")[0] for name in zipfile.ZipFile(wheel).namelist() if ".dist-info/" not in name
        }
        for package, wheel in wheels.items()
    }
    assert tops == {"retrace": {"app"}, "retrace-lattice": {"tools"}, "retrace-client": {"retrace_client"}}
    lattice = zipfile.ZipFile(wheels["retrace-lattice"]).namelist()
    assert "tools/__init__.py" not in lattice, (
        "`tools` must stay a namespace: an adopter's own tools/ may exist"
    )
    assert "tools/retrace_target.py" not in lattice, (
        "Retrace's Target belongs to Retrace's tests, not the lattice"
    )


def test_the_client_wheel_installs_and_imports(wheels: dict[str, Path], outside: Path) -> None:
    python = clean_venv(outside)
    uv("pip", "install", "--quiet", "--python", str(python), str(wheels["retrace-client"]), cwd=outside)
    done = subprocess.run(
        [str(python), "-c", "import retrace_client, retrace_client.api.marks.marks_get as g; print(g.sync)"],
        cwd=outside,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "function" in done.stdout
