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
    from tools.lattice.accounts import Mailbox, SignedInUser, sign_in
    from tools.lattice.isolation import Plane
    from tools.lattice.livestack import LiveStack, start_live_stack
    from tools.lattice.plugin import current_run, current_worker_names
    from tools.lattice.queue import DrainableWorker, QueueNotDrained
    from tools.lattice.target import AppUnderTest, ChainSpec, PlaneSpec, ServePlan, Target
    from tools.lattice.targeting import load_target
    from tools.lattice.workerstate import WorkerLattice

_EXPORTS = {
    "AppUnderTest": "tools.lattice.target",
    "ChainSpec": "tools.lattice.target",
    "DrainableWorker": "tools.lattice.queue",
    "LiveStack": "tools.lattice.livestack",
    "Mailbox": "tools.lattice.accounts",
    "Plane": "tools.lattice.isolation",
    "PlaneSpec": "tools.lattice.target",
    "QueueNotDrained": "tools.lattice.queue",
    "ServePlan": "tools.lattice.target",
    "SignedInUser": "tools.lattice.accounts",
    "Target": "tools.lattice.target",
    "WorkerLattice": "tools.lattice.workerstate",
    "current_run": "tools.lattice.plugin",
    "current_worker_names": "tools.lattice.plugin",
    "load_target": "tools.lattice.targeting",
    "sign_in": "tools.lattice.accounts",
    "start_live_stack": "tools.lattice.livestack",
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
