"""The lattice's fixtures come from tools/lattice/plugin/hooks.py (the pytest11 entry point `lattice`)."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    # A collection-only run (`pytest --co`, the mutation tool's probe) asserts no snapshot, so syrupy would
    # call every committed one unused and fail the run (with --snapshot-update, delete them all).
    if config.option.collectonly:
        config.option.disable_unused_snapshots = True
