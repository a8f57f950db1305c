"""The pytest command every mutate step runs: the lattice's plugin, no random order, no cache."""

from __future__ import annotations

import sys
from pathlib import Path


def pytest_command(targets: list[str], *, suite: str, logs: Path, extra: list[str]) -> list[str]:
    return [
        sys.executable,
        "-m",
        "pytest",
        *targets,
        f"--lattice-suite={suite}",
        f"--lattice-logs={logs}",
        # A mutant must meet its tests in the same order each time it is run (and the map's order).
        "-p",
        "no:randomly",
        "-p",
        "no:cacheprovider",
        *extra,
    ]
