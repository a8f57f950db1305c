"""The spans a real server adds (app/server.py's timed protocol): the `data_received` that completed a
request's head (`framing`) and the wait for the event loop after it (`loop_wait`), which the in-process
transport never goes through."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from tools.lattice.live.fixtures import START_TIMEOUT_S
from tools.lattice.live.stack import start_live_stack
from tools.lattice.plugin.workerstate import WorkerLattice


def test_a_served_request_records_its_framing_and_loop_wait(lattice: WorkerLattice, tmp_path: Path) -> None:
    path = tmp_path / "spans.jsonl"
    settings = lattice.plane.settings(spans_path=path)
    logs = lattice.plane.names.directory / "live-spans"
    with start_live_stack(settings, logs, with_worker=False, timeout_s=START_TIMEOUT_S) as stack:
        for _ in range(3):
            assert httpx.get(f"{stack.base_url}/healthz", timeout=30).status_code == 200
    records = [json.loads(line) for line in path.read_text().splitlines()]
    served = [r for r in records if r["route"] == "/healthz"]
    assert len(served) >= 3, records  # the stack's own readiness probes come on top
    for record in served:
        assert record["framing"] >= 0.0
        assert record["loop_wait"] >= 0.0
        assert record["framing"] + record["loop_wait"] < 10_000, "a span of another request's head"
