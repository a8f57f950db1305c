"""wrk against the anchors and against the API's read path, interleaved, in the same minute.

Two anchors run beside the API on the same service set: the floor (tests/perf/floor_app.py, the
leanest GET-by-pk this stack allows, which every `*_vs_floor` ratio divides by) and the tutorial-shaped
reference (tests/perf/bare_app.py, `*_vs_bare`, which the older gates still use). wrk drives all three
over the same 2,000 seeded mark ids. What the ratios divide is recorded under `wrk` in the figures; each
anchor runs first and last and its figures are the mean of the two runs, so drift of the machine's load
during the minute lands on every side.
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
from tools.lattice.engines.perf import budgets
from tools.lattice.engines.perf.cpu import fixed, postgres_pids
from tools.lattice.engines.perf.wrk import WrkResult, run_wrk, wrk_path
from tools.lattice.live.stack import LiveStack, settings_env
from tools.lattice.plugin.workerstate import WorkerLattice
from tools.lattice.seam.accounts import SignedInUser
from tools.lattice.services.base import free_port
from tools.lattice.services.process import die_with_parent, stop_child

IDS = 2000
DURATION_S = 4.0
SCRIPTS = Path("logs/perf/wrk")


def _serve_anchor(module: str, settings: Settings) -> Iterator[tuple[str, int]]:
    """An anchor app (`python -m module PORT`) on a port of its own: (base URL, pid)."""
    name = module.rsplit(".", 1)[-1]
    port = free_port()
    log = Path(f"logs/perf/{name}.log")
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", module, str(port)],
            env={**os.environ, **settings_env(settings)},
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent(),
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    try:
        while True:
            assert process.poll() is None, f"{name} exited with {process.returncode}: see {log}"
            try:
                if httpx.get(f"{base}/healthz", timeout=1.0).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"{name} did not answer within 30 s: see {log}"
            time.sleep(0.05)
        yield base, process.pid
    finally:
        stop_child(process)


@pytest.fixture(scope="module")
def bare(perf_settings: Settings) -> Iterator[tuple[str, int]]:
    """The tutorial-shaped reference (two thread hops, a pool of 5)."""
    yield from _serve_anchor("tests.perf.bare_app", perf_settings)


@pytest.fixture(scope="module")
def floor(perf_settings: Settings) -> Iterator[tuple[str, int]]:
    """The floor: one thread hop, one pooled round trip, the service's pool size."""
    yield from _serve_anchor("tests.perf.floor_app", perf_settings)


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
    floor: tuple[str, int],
    perf_user: SignedInUser,
    lattice: WorkerLattice,
    figures: Figures,
    scale: float,
) -> None:
    wrk_path()  # one actionable line when wrk is missing, before any seeding
    ids = [str(i) for i in seed_marks(lattice.engine, perf_user.id, IDS, label="wrk")]
    duration = max(1.0, DURATION_S * scale)
    anchor_paths = [f"/marks/{i}" for i in ids]
    get_paths = [f"/v1/marks/{i}" for i in ids]
    anchors = {"floor-get": floor, "bare-get": bare}
    postgres = postgres_pids(lattice.engine)
    api_cpu = {"api": fixed(_api_pid(stack)), "postgres": postgres}

    def anchor_run(name: str, duration_s: float = duration, measured: bool = True) -> WrkResult:
        base, pid = anchors[name]
        script = SCRIPTS / f"{name}.lua"
        return run_wrk(
            base,
            anchor_paths,
            script=script,
            duration_s=duration_s,
            server_pid=pid if measured else None,
            cpu={"api": fixed(pid), "postgres": postgres} if measured else None,
        )

    # Warm-up, not recorded: every pool fills, every server's code paths are hot.
    for name in anchors:
        anchor_run(name, 1, measured=False)
    run_wrk(stack.base_url, get_paths, script=SCRIPTS / "get.lua", headers=perf_user.headers, duration_s=1)

    first = {name: anchor_run(name) for name in anchors}
    runs = {
        "marks-get": run_wrk(
            stack.base_url,
            get_paths,
            script=SCRIPTS / "get.lua",
            headers=perf_user.headers,
            duration_s=duration,
            server_pid=_api_pid(stack),
            cpu=api_cpu,
        ),
        "token-auth": run_wrk(
            stack.base_url,
            ["/v1/me"],
            script=SCRIPTS / "me.lua",
            headers=perf_user.api_headers,
            duration_s=duration,
            server_pid=_api_pid(stack),
            cpu=api_cpu,
        ),
        "marks-list": run_wrk(
            stack.base_url,
            ["/v1/marks?limit=20"],
            script=SCRIPTS / "list.lua",
            headers=perf_user.headers,
            duration_s=duration,
            server_pid=_api_pid(stack),
            cpu=api_cpu,
        ),
    }
    last = {name: anchor_run(name) for name in reversed(anchors)}
    wrk_figures = figures.setdefault("wrk", {})
    for name in anchors:
        early, late = _checked(f"{name} (first)", first[name]), _checked(f"{name} (last)", last[name])
        wrk_figures[name] = {
            key: round((early[key] + late[key]) / 2, 3)
            for key in early
            if early[key] is not None and late[key] is not None
        }
    for name, result in runs.items():
        wrk_figures[name] = _checked(name, result)
    gate = budgets.p95_gate_ms(wrk_figures["bare-get"]["p95_ms"])
    figures.setdefault("gate", {})["p95_gate_ms"] = round(gate, 1)
    over = {n: f["p95_ms"] for n, f in wrk_figures.items() if n not in anchors and f["p95_ms"] > gate}
    assert not over, f"p95 over the load-scaled gate of {gate:.0f} ms: {over}"
