"""The test lattice: service sets, per-worker planes, telemetry, guards, as a pytest plugin.

What tests import is exported here (loaded on first use, so `python -m tools.lattice ...` commands
do not pay for pytest or the app):

    from tools.lattice import SignedInUser, WorkerLattice, sign_in

The fixtures (`api`, `user`, `other_user`, `worker`, `db`, `mailbox`, `settings`, `lattice`) come from
the plugin (the pytest11 entry point `lattice`); the application is reached only through its `Target`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tools.lattice.live.stack import LiveStack, start_live_stack
    from tools.lattice.planes.isolation import Plane
    from tools.lattice.planes.queue import DrainableWorker, QueueNotDrained
    from tools.lattice.plugin.hooks import current_run, current_worker_names
    from tools.lattice.plugin.workerstate import WorkerLattice
    from tools.lattice.seam.accounts import Mailbox, SignedInUser, sign_in
    from tools.lattice.seam.target import AppUnderTest, ChainSpec, PlaneSpec, ServePlan, Target
    from tools.lattice.seam.targeting import load_target

_EXPORTS = {
    "AppUnderTest": "tools.lattice.seam.target",
    "ChainSpec": "tools.lattice.seam.target",
    "DrainableWorker": "tools.lattice.planes.queue",
    "LiveStack": "tools.lattice.live.stack",
    "Mailbox": "tools.lattice.seam.accounts",
    "Plane": "tools.lattice.planes.isolation",
    "PlaneSpec": "tools.lattice.seam.target",
    "QueueNotDrained": "tools.lattice.planes.queue",
    "ServePlan": "tools.lattice.seam.target",
    "SignedInUser": "tools.lattice.seam.accounts",
    "Target": "tools.lattice.seam.target",
    "WorkerLattice": "tools.lattice.plugin.workerstate",
    "current_run": "tools.lattice.plugin.hooks",
    "current_worker_names": "tools.lattice.plugin.hooks",
    "load_target": "tools.lattice.seam.targeting",
    "sign_in": "tools.lattice.seam.accounts",
    "start_live_stack": "tools.lattice.live.stack",
}

__all__ = [
    "AppUnderTest",
    "ChainSpec",
    "DrainableWorker",
    "LiveStack",
    "Mailbox",
    "Plane",
    "PlaneSpec",
    "QueueNotDrained",
    "ServePlan",
    "SignedInUser",
    "Target",
    "WorkerLattice",
    "current_run",
    "current_worker_names",
    "load_target",
    "sign_in",
    "start_live_stack",
]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'tools.lattice' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
