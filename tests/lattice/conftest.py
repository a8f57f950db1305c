"""Fixtures for the services tests: a state dir of their own, so they never touch (or `down`)
sets that other runs on this machine keep in the default state dir."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tools.lattice.cli import main
from tools.lattice.config import LatticeSettings, fast_temp_root
from tools.lattice.services.base import free_port

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def state_dir() -> Iterator[Path]:
    # Not tmp_path: pytest's temp root is 0700, and PostgreSQL's `nobody` must reach the binaries copy.
    path = Path(tempfile.mkdtemp(prefix="retrace-lattice-test-", dir=fast_temp_root()))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def settings(state_dir: Path) -> LatticeSettings:
    # Compose ports nothing listens on: a developer's docker-compose.dev.yml set must not be detected.
    return LatticeSettings(
        state_dir=state_dir,
        provider=None,
        database_url=None,
        redis_url=None,
        docker_host=None,
        compose_postgres_port=free_port(),
        compose_redis_port=free_port(),
    )


@pytest.fixture
def cli_env(state_dir: Path) -> dict[str, str]:
    """Environment for `python -m tools.lattice` subprocesses: no inherited LATTICE_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LATTICE_") and k != "DOCKER_HOST"}
    env["LATTICE_STATE_DIR"] = str(state_dir)
    env["LATTICE_COMPOSE_POSTGRES_PORT"] = str(free_port())  # see `settings`
    env["LATTICE_COMPOSE_REDIS_PORT"] = str(free_port())
    return env


@pytest.fixture
def lattice_cmd() -> list[str]:
    return [sys.executable, "-m", "tools.lattice"]


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Callable[..., Ran]:
    """`python -m tools.lattice spec diff ...` in this process (a subprocess costs seconds of imports)."""
    monkeypatch.chdir(REPO)

    def run(*args: str) -> Ran:
        code = main(["spec", "diff", *args])
        out, err = capsys.readouterr()
        return Ran(code, out, err)

    return run
