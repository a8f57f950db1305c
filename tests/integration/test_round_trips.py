"""SQL statements and Redis commands per operation against the committed table perf/statements.json.

Any increase fails: an N+1 query in the list route, an extra lookup per request, a second enqueue.
A decrease passes with a warning; make the table say so with
`LATTICE_STATEMENTS_WRITE=1 nox -s integration -- tests/integration/test_round_trips.py` and commit it.
"""

from __future__ import annotations

import os
import uuid
import warnings
from collections.abc import Callable

import httpx

from app.ingestion.process import ingest
from tests.integration.flows import create_mark
from tools.lattice.engines.perf.roundtrips import TABLE, WRITE_ENV, Counts, counting, load_table, write_table
from tools.lattice.planes.queue import DrainableWorker
from tools.lattice.plugin.workerstate import WorkerLattice
from tools.lattice.seam.accounts import SignedInUser

LIST_SEED = 25  # more than a page of 20, so the page holds 20 marks, each with its parts


def _expect(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, (
        f"{response.request.url.path}: {response.status_code} {response.text}"
    )


def test_statements_per_operation(
    api: httpx.Client, user: SignedInUser, lattice: WorkerLattice, worker: DrainableWorker
) -> None:
    marks = [
        create_mark(api, user.headers, url=f"https://example.org/{n}", note="n") for n in range(LIST_SEED)
    ]
    worker.join()  # their ingestions finish before anything is counted
    first = marks[0]["id"]
    _expect(api.get("/v1/me", headers=user.api_headers), 200)  # last_used_at written: later calls read only

    operations: dict[str, Callable[[], None]] = {
        "get-mark (session token)": lambda: _expect(api.get(f"/v1/marks/{first}", headers=user.headers), 200),
        "get-me (API token)": lambda: _expect(api.get("/v1/me", headers=user.api_headers), 200),
        "list-marks (page of 20)": lambda: _expect(api.get("/v1/marks?limit=20", headers=user.headers), 200),
        "patch-mark (title)": lambda: _expect(
            api.patch(f"/v1/marks/{first}", json={"title": "t"}, headers=user.headers), 200
        ),
        "upload-attachment (1 KiB, and enqueue)": lambda: _expect(
            api.put(
                f"/v1/marks/{first}/attachment",
                content=b"x" * 1024,
                headers={**user.headers, "Content-Type": "text/plain"},
            ),
            200,
        ),
        "create-mark (and enqueue)": lambda: _expect(
            api.post("/v1/marks", json={"url": "https://example.org/new"}, headers=user.headers), 201
        ),
        "delete-mark": lambda: _expect(api.delete(f"/v1/marks/{marks[-1]['id']}", headers=user.headers), 204),
    }
    counts: Counts = {}
    worker.pause()  # its consumer polls Redis on the broker's client, on its own timing
    try:
        for name, operation in operations.items():
            with counting(lattice.runtime) as tally:
                operation()
            counts[name] = tally.as_dict()
        # One ingestion job, run here on the worker engine as the actor runs it (the broker's delivery is
        # Dramatiq's, not ours); its message, still queued, finds the version done and changes nothing.
        job = create_mark(api, user.headers, url="https://example.org/job", note="a few words")
        runtime = lattice.runtime
        with counting(runtime) as tally:
            ingest(runtime.worker_engine, runtime.blobs, uuid.UUID(job["id"]), job["ingestion"]["version"], 3)
        counts["ingestion job"] = tally.as_dict()
    finally:
        worker.resume()

    if os.environ.get(WRITE_ENV) == "1":
        write_table(counts)
        return
    table = load_table()
    assert table, f"no table at {TABLE}: write it with {WRITE_ENV}=1 (see this file's docstring)"
    increases, decreases = [], []
    for name, now in counts.items():
        before = table.get(name)
        assert before is not None, f"{name!r} is not in {TABLE}: add it with {WRITE_ENV}=1"
        for kind, value in now.items():
            if value > before[kind]:
                increases.append(f"{name}: {kind} {before[kind]} -> {value}")
            elif value < before[kind]:
                decreases.append(f"{name}: {kind} {before[kind]} -> {value}")
    assert not increases, "more round trips than perf/statements.json allows:\n" + "\n".join(increases)
    if decreases:
        warnings.warn(
            f"fewer round trips than {TABLE} (refresh it with {WRITE_ENV}=1): " + "; ".join(decreases),
            stacklevel=1,
        )
