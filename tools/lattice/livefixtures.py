"""Pytest fixtures for suites that run against a live stack (uvicorn + `retrace worker` processes).

Import them into a conftest (`from tools.lattice.livefixtures import live, live_stack`). The stack runs
on this xdist worker's planes (schema, Redis namespace, queue suffix, blob dir, Maildir), so the
in-process `worker` fixture must not be used alongside: the `retrace worker` process consumes that
queue. `drill_stack` builds a stack on a service set a drill owns, on a schema it migrates itself.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from app.db import make_engine
from app.migrate import upgrade
from app.settings import Settings
from tools.lattice.livestack import LiveStack, start_live_stack
from tools.lattice.services import ServiceSet
from tools.lattice.workerstate import WorkerLattice

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
) -> Iterator[tuple[LiveStack, Settings]]:
    """A live stack on `services` (a set the caller owns), on a freshly migrated `public` schema."""
    with tempfile.TemporaryDirectory(prefix="retrace-drill-") as tmp:
        root = Path(tmp)
        values: dict[str, object] = {
            "database_url": services.database_url,
            "redis_url": services.redis_url,
            "db_schema": "public",
            "redis_namespace": "drill",
            "blob_dir": root / "blobs",
            "mailer": f"maildir:{root / 'mail'}",
            "ingest_min_backoff_ms": 10,
            "ingest_max_backoff_ms": 50,
            "worker_threads": 2,
            # A drill waits for the requeue loop to send what an outage left unsent: look often.
            "requeue_interval_s": 0.5,
        }
        values.update(overrides)
        settings = Settings(**values)  # type: ignore[arg-type]
        (root / "blobs").mkdir()
        (root / "mail").mkdir()
        # Migrated without the drill's statement timeout (a drill may set a very short one).
        engine = make_engine(Settings(**{**values, "db_statement_timeout_ms": 0}))  # type: ignore[arg-type]
        try:
            upgrade(engine, settings)
        finally:
            engine.dispose()
        with start_live_stack(
            settings, root / "logs", with_worker=with_worker, timeout_s=START_TIMEOUT_S
        ) as stack:
            yield stack, settings
