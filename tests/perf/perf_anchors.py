"""wrk against the bare anchor and against the API's read path, interleaved, in the same minute.

The anchor (tests/perf/bare_app.py) runs beside the API on the same service set; wrk drives
both over the same 2,000 seeded mark ids. What the ratios divide is recorded under `wrk` in the
figures; the anchor runs first and last, and its figures are the mean of the two runs, so drift of the
machine's load during the minute lands on both sides.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.settings import Settings
from tests.perf.conftest import Figures, seed_marks
from tools.lattice.accounts import SignedInUser
from tools.lattice.livestack import LiveStack, settings_env
from tools.lattice.perf import budgets
from tools.lattice.perf.wrk import WrkResult, run_wrk, wrk_path
from tools.lattice.services.base import free_port
from tools.lattice.services.process import die_with_parent, stop_child
from tools.lattice.workerstate import WorkerLattice

IDS = 2000
DURATION_S = 4.0
SCRIPTS = Path("logs/perf/wrk")


@pytest.fixture(scope="module")
def bare(perf_settings: Settings) -> Iterator[tuple[str, int]]:
    """The bare anchor app on a port of its own: (base URL, pid)."""
    port = free_port()
    log = Path("logs/perf/bare.log")
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.perf.bare_app", str(port)],
            env={**os.environ, **settings_env(perf_settings)},
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent(),
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    try:
        while True:
            assert process.poll() is None, f"the bare anchor exited with {process.returncode}: see {log}"
            try:
                if httpx.get(f"{base}/healthz", timeout=1.0).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"the bare anchor did not answer within 30 s: see {log}"
            time.sleep(0.05)
        yield base, process.pid
    finally:
        stop_child(process)


def _api_pid(stack: LiveStack) -> int:
    return stack.processes["api"].pid


def _checked(name: str, result: WrkResult) -> dict[str, float]:
    assert result.requests > 0, f"{name}: wrk completed no request"
    assert result.errors == 0, f"{name}: {result.errors} of {result.requests} answers were errors (non-2xx)"
    print(
        f"wrk {name}: p50 {result.p50_ms:.1f} p95 {result.p95_ms:.1f} p99 {result.p99_ms:.1f} ms, "
        f"{result.rps:.0f} req/s, wrk CPU {result.wrk_cpu_share:.0%} of the machine, "
        f"machine busy {result.machine_busy:.0%}"
    )
    return result.as_dict()


def test_read_path_against_bare_anchor(
    stack: LiveStack,
    bare: tuple[str, int],
    perf_user: SignedInUser,
    lattice: WorkerLattice,
    figures: Figures,
    scale: float,
) -> None:
    wrk_path()  # one actionable line when wrk is missing, before any seeding
    ids = [str(i) for i in seed_marks(lattice.engine, perf_user.id, IDS, label="wrk")]
    bare_base, bare_pid = bare
    duration = max(1.0, DURATION_S * scale)
    bare_paths = [f"/marks/{i}" for i in ids]
    get_paths = [f"/v1/marks/{i}" for i in ids]

    def bare_run() -> WrkResult:
        return run_wrk(
            bare_base, bare_paths, script=SCRIPTS / "bare.lua", duration_s=duration, server_pid=bare_pid
        )

    # Warm-up, not recorded: both pools fill, both servers' code paths are hot.
    run_wrk(bare_base, bare_paths, script=SCRIPTS / "bare.lua", duration_s=1)
    run_wrk(stack.base_url, get_paths, script=SCRIPTS / "get.lua", headers=perf_user.headers, duration_s=1)

    first = bare_run()
    runs = {
        "marks-get": run_wrk(
            stack.base_url,
            get_paths,
            script=SCRIPTS / "get.lua",
            headers=perf_user.headers,
            duration_s=duration,
            server_pid=_api_pid(stack),
        ),
        "token-auth": run_wrk(
            stack.base_url,
            ["/v1/me"],
            script=SCRIPTS / "me.lua",
            headers=perf_user.api_headers,
            duration_s=duration,
            server_pid=_api_pid(stack),
        ),
        "marks-list": run_wrk(
            stack.base_url,
            ["/v1/marks?limit=20"],
            script=SCRIPTS / "list.lua",
            headers=perf_user.headers,
            duration_s=duration,
            server_pid=_api_pid(stack),
        ),
    }
    last = bare_run()
    wrk_figures = figures.setdefault("wrk", {})
    early, late = _checked("bare-get (first)", first), _checked("bare-get (last)", last)
    wrk_figures["bare-get"] = {
        key: round((early[key] + late[key]) / 2, 3)
        for key in early
        if early[key] is not None and late[key] is not None
    }
    for name, result in runs.items():
        wrk_figures[name] = _checked(name, result)
    gate = budgets.p95_gate_ms(wrk_figures["bare-get"]["p95_ms"])
    figures.setdefault("gate", {})["p95_gate_ms"] = round(gate, 1)
    over = {n: f["p95_ms"] for n, f in wrk_figures.items() if n != "bare-get" and f["p95_ms"] > gate}
    assert not over, f"p95 over the load-scaled gate of {gate:.0f} ms: {over}"
