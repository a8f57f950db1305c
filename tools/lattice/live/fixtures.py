"""Pytest fixtures for suites that run against a live stack (the target's API and worker processes).

Import them into a conftest (`from tools.lattice.live.fixtures import live, live_stack`). The stack runs
on this xdist worker's plane (schema, Redis namespace, queue suffix, files), so the in-process `worker`
fixture must not be used alongside: the worker process consumes that queue. `drill_stack` builds a
stack on a service set a drill owns, on a plane of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from tools.lattice.live.stack import LiveStack, start_live_stack
from tools.lattice.planes.isolation import Plane
from tools.lattice.planes.naming import WorkerNames, new_run_id
from tools.lattice.plugin.workerstate import WorkerLattice
from tools.lattice.services import ServiceSet

# Generous: on a shared 2-core machine a cold uvicorn import can take tens of seconds under load.
START_TIMEOUT_S = 120.0


@pytest.fixture(scope="session")
def live_stack(lattice: WorkerLattice) -> Iterator[LiveStack]:
    """The service over a real port on this worker's planes, once per xdist worker."""
    logs = lattice.plane.names.directory / "live"
    with start_live_stack(lattice.plane.settings(), logs, timeout_s=START_TIMEOUT_S) as stack:
        yield stack


@pytest.fixture
def live(live_stack: LiveStack, lattice: WorkerLattice) -> Iterator[httpx.Client]:
    """An httpx client on the live stack's port; the worker's planes are reset after the test."""
    with live_stack.client() as client:
        yield client
    lattice.reset()


@contextmanager
def drill_stack(
    services: ServiceSet, *, with_worker: bool = True, **overrides: object
) -> Iterator[tuple[LiveStack, Any]]:
    """A live stack on `services` (a set the caller owns), on a freshly migrated `public` schema
    (so a drill's own connections find the tables without a search path)."""
    plane = Plane(WorkerNames(new_run_id(), 0), services.database_url, services.redis_url, schema="public")
    # A drill waits for the requeue loop to send what an outage left unsent: look often.
    settings = plane.settings(redis_namespace="drill", requeue_interval_s=0.5, **overrides)
    plane.create()  # migrated over an engine of its own, without the drill's statement timeout
    try:
        with start_live_stack(
            settings, plane.names.directory / "logs", with_worker=with_worker, timeout_s=START_TIMEOUT_S
        ) as stack:
            yield stack, settings
    finally:
        plane.sweep()
