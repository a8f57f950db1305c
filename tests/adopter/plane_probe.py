"""Not part of the quick start: copied into the tmp project as its root conftest.py by test_quick_start.py,
it records what each test's xdist worker owned, one JSON line per test in $PROBE_OUT/<worker>.jsonl."""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

import pytest
from sqlalchemy import text

from tools.lattice import WorkerLattice


@pytest.fixture(autouse=True)
def _record_the_plane(lattice: WorkerLattice) -> None:
    # Before the test: what the previous test (of this worker) wrote is gone, and no other worker's is here.
    with lattice.engine.connect() as conn:
        schema = conn.execute(text("SELECT current_schema()")).scalar_one()
        notes = conn.execute(text("SELECT count(*) FROM notes")).scalar_one()
    record = {
        "worker": os.environ.get("PYTEST_XDIST_WORKER", "main"),
        "schema": schema,
        "notes_at_start": notes,
        "namespace": lattice.plane.spec.redis_namespace,
        "broker_namespace": lattice.app.broker.namespace,
        "queue": lattice.app.queue_name,
        "maildir": str(lattice.plane.maildir),
        "users": sorted(account.email for account in lattice.accounts.values()),
        "app_importable": importlib.util.find_spec("app") is not None,
    }
    with (Path(os.environ["PROBE_OUT"]) / f"{record['worker']}.jsonl").open("a") as out:
        out.write(json.dumps(record) + "\n")
