"""The live suite's fixtures come from tools/lattice/live/fixtures.py (the plumbing lives there); the
drills' figures file is here."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tools.lattice.live.fixtures import live, live_stack

__all__ = ["drill_log", "live", "live_stack"]


@pytest.fixture
def drill_log(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    """Figures of this drill, printed and written to <logs>/drills/<name>.json at the end."""
    figures: dict[str, Any] = {}
    yield figures
    name = request.node.name
    path = Path(request.config.getoption("--lattice-logs")) / "drills" / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(figures, indent=1, default=str) + "\n")
    print(f"drill {name}: {json.dumps(figures, default=str)}")
