"""Integration-suite fixtures only; shared client flows live in flows.py."""

from __future__ import annotations

import pytest

from tests.integration.test_isolation import write_plane_marker
from tools.lattice.plugin.workerstate import WorkerLattice


@pytest.fixture(scope="session", autouse=True)
def _plane_marker(lattice: WorkerLattice) -> None:
    """Every xdist worker that runs a test here leaves its plane names for test_isolation to compare."""
    write_plane_marker(lattice)
